"""The Definitions root of the seek-sync code location: assets, checks, jobs, sensor, schedule."""

import dagster as dg

from seek_sync.assets import checks
from seek_sync.assets.ats import ats_push
from seek_sync.assets.files import attachment_files
from seek_sync.assets.seek import (
    application_events,
    attachment_manifest,
    candidate_profiles,
    hirers,
)
from seek_sync.jobs import (
    export_job,
    hirer_batch,
    hirer_sync,
    hirers_refresh,
    purge_job,
    retention_job,
    seek_deletions_job,
)
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.schedules import nightly_reconcile, retention_schedule, seek_deletions_schedule
from seek_sync.sensors import seek_applications

defs = dg.Definitions(
    # Each asset links to the function that computes it (the UI's "Code references").
    assets=dg.with_source_code_references(
        [
            hirers,
            application_events,
            candidate_profiles,
            attachment_manifest,
            attachment_files,
            ats_push,
        ]
    ),
    asset_checks=[
        checks.every_attachment_has_file_or_reason,
        checks.blobs_match_their_hash_and_hirer,
        checks.oldest_unsettled_upload_is_recent,
        checks.no_uploads_rejected_or_failed,
        checks.hirer_is_not_failing,
    ],
    jobs=[
        hirer_batch,
        hirer_sync,
        hirers_refresh,
        purge_job,
        export_job,
        seek_deletions_job,
        retention_job,
    ],
    sensors=[seek_applications],
    schedules=[nightly_reconcile, seek_deletions_schedule, retention_schedule],
    resources={"seek_sync": SeekSyncResource(), "warehouse": WarehouseResource()},
)
