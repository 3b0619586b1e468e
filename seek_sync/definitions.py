"""The Definitions root of the seek-sync code location: assets, checks, jobs, sensor, schedule."""

import warnings

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
    default_executor,
    export_job,
    hirer_batch,
    hirer_sync,
    hirers_refresh,
    purge_job,
    reapply_tombstones_job,
    retention_job,
    seek_deletions_job,
)
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.schedules import nightly_reconcile, retention_schedule, seek_deletions_schedule
from seek_sync.sensors import seek_applications

# Dagster copies a sensor whenever it binds its jobs and passes `owners=[]` to the copy, which its
# beta-parameter guard reports as a `BetaWarning` on every load (8 per `seek-sync dev` start). No
# sensor here sets owners; this silences that one message only.
warnings.filterwarnings(
    "ignore",
    message=r"Parameter `owners` of initializer `SensorDefinition",
    category=dg.BetaWarning,
)

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
        checks.every_file_accounted_for,
        checks.blobs_intact,
        checks.no_blobs_on_demand,
        checks.uploads_settle_in_time,
        checks.no_upload_needs_action,
        checks.hirer_is_not_failing,
    ],
    jobs=[
        hirer_batch,
        hirer_sync,
        hirers_refresh,
        purge_job,
        reapply_tombstones_job,
        export_job,
        seek_deletions_job,
        retention_job,
    ],
    sensors=[seek_applications],
    schedules=[nightly_reconcile, seek_deletions_schedule, retention_schedule],
    resources={"seek_sync": SeekSyncResource(), "warehouse": WarehouseResource()},
    # Asset runs launched from the UI (materializations, backfills) in process, as every job.
    executor=default_executor,
)
