"""The two jobs the sensor and the schedule launch: one hirer's flow, and the hirers table."""

import dagster as dg

HIRER_ASSETS = (
    "application_events",
    "candidate_profiles",
    "attachment_manifest",
    "attachment_files",
    "ats_candidates",
    "ats_uploads",
)

hirer_sync = dg.define_asset_job(
    "hirer_sync",
    selection=dg.AssetSelection.assets(*HIRER_ASSETS),
    description="One hirer: events -> profiles -> manifest -> files -> ATS candidates -> uploads.",
)

hirers_refresh = dg.define_asset_job(
    "hirers_refresh",
    selection=dg.AssetSelection.assets("hirers"),
    description="The hirers table: relationship state and ATS target of every hirer seen.",
)
