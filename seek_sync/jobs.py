"""The jobs: many hirers per run (what ticks launch), one hirer's assets, the hirers table."""

import dagster as dg

from seek_sync.assets.batch import sync_hirers
from seek_sync.assets.privacy import export_data, purge_data, reapply_purges
from seek_sync.assets.redactions import follow_seek_deletions
from seek_sync.assets.retention import apply_retention_limits

HIRER_ASSETS = (
    "application_events",
    "candidate_profiles",
    "attachment_manifest",
    "attachment_files",
    "ats_candidates",
    "ats_uploads",
)


def _in_process_unless_configured() -> dg.ExecutorDefinition:
    """Dagster's default executor (in process or one process per step, chosen by run config)
    with in process as its default: the code location's executor, so the implicit asset job
    (what a materialization or a backfill launched from the UI runs) executes in process like
    every job here. With Dagster's multiprocess default those runs fail on a Celery worker: a
    run executes in a daemonic pool process, which may not start children ("daemonic processes
    are not allowed to have children"; found by tests/cluster/test_local_cluster.py). Run config
    may still ask for `multiprocess` where a run's process may start children."""
    default = dg.multi_or_in_process_executor
    return dg.ExecutorDefinition(
        name="in_process_or_multiprocess",
        config_schema=dg.Field(default.config_schema.config_type, default_value={"in_process": {}}),
        executor_creation_fn=default.executor_creation_fn,
        requirements=default.get_requirements,
        description="In process unless the run config says `multiprocess`.",
    )


default_executor = _in_process_unless_configured()

hirer_sync = dg.define_asset_job(
    "hirer_sync",
    selection=dg.AssetSelection.assets(*HIRER_ASSETS),
    description="One hirer: events -> profiles -> manifest -> files -> ATS candidates -> uploads.",
    executor_def=dg.in_process_executor,
)

hirers_refresh = dg.define_asset_job(
    "hirers_refresh",
    selection=dg.AssetSelection.assets("hirers"),
    description="The hirers table: relationship state and ATS target of every hirer seen.",
    executor_def=dg.in_process_executor,
)


@dg.job(
    name="hirer_batch",
    executor_def=dg.in_process_executor,
    description="Many hirers in one run, several at once: what a sensor tick or `sync` launches.",
)
def hirer_batch() -> None:
    sync_hirers()


@dg.job(
    name="purge",
    executor_def=dg.in_process_executor,
    description="Remove a hirer's, a candidate's or an email's data everywhere, with an audit row.",
)
def purge_job() -> None:
    purge_data()


@dg.job(
    name="reapply_tombstones",
    executor_def=dg.in_process_executor,
    description="After a restore: every purge tombstone applied again, so what was erased stays "
    "erased.",
)
def reapply_tombstones_job() -> None:
    reapply_purges()


@dg.job(
    name="export",
    executor_def=dg.in_process_executor,
    description="Everything held about one person (an access request), written to one archive.",
)
def export_job() -> None:
    export_data()


@dg.job(
    name="seek_deletions",
    executor_def=dg.in_process_executor,
    description="Stored profiles re-read; those SEEK deleted (redacted) are purged here too.",
)
def seek_deletions_job() -> None:
    follow_seek_deletions()


@dg.job(
    name="retention",
    executor_def=dg.in_process_executor,
    description="What is past its retention limit removed: files, profiles, removed hirers, "
    "inbox rows, old runs.",
)
def retention_job() -> None:
    apply_retention_limits()
