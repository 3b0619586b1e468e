"""Schedules: `nightly_reconcile` (every active hirer once a night, retrying what is still open,
in ranges), `seek_deletions_hourly` (profiles re-read for SEEK's deletions) and
`retention_daily` (what is past its retention limit removed)."""

import dagster as dg

from seek_sync.assets.claims import HIRERS_PER_BACKFILL_RUN
from seek_sync.assets.dry_runs import REAL_RUN
from seek_sync.jobs import hirer_sync
from seek_sync.partitions import hirer_partitions, hirer_tags, keys_of
from seek_sync.pipeline.hirers import removed_hirers
from seek_sync.resources import SeekSyncResource

RECONCILE_CONFIG = {
    "ops": {
        "attachment_files": {"config": {"retry_missing": True}},
        "ats_push": {"config": {"read_back_all": True}},
    }
}


RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def reconcile_requests(
    keys: list[str], removed: set[str], day: str, per_run: int = HIRERS_PER_BACKFILL_RUN
) -> list[dg.RunRequest]:
    """Runs over ranges of adjacent active hirers (their partition keys, in partition order), at
    most `per_run` each: a night of N hirers launches about N / `per_run` runs, not N; a removed
    hirer (`removed`: their keys) splits a range."""
    ranges: list[list[str]] = [[]]
    for key in keys:
        if key in removed or len(ranges[-1]) == per_run:
            ranges.append([])
        if key not in removed:
            ranges[-1].append(key)
    return [
        dg.RunRequest(
            run_key=f"reconcile|{day}|{group[0]}|{len(group)}",
            run_config=RECONCILE_CONFIG,
            tags={
                RANGE_START: group[0],
                RANGE_END: group[-1],
                "seek_sync/trigger": "nightly_reconcile",
                **hirer_tags(group),
            },
        )
        for group in ranges
        if group
    ]


@dg.schedule(
    name="nightly_reconcile",
    job=hirer_sync,
    cron_schedule="15 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Each night, every active hirer once (`hirer_sync` over ranges of hirers): pending "
    "uploads retried, missing files fetched again, callbacks applied, Onderwijsregio mutations "
    "without a callback confirmed by reading back.",
)
def nightly_reconcile(
    context: dg.ScheduleEvaluationContext, seek_sync: SeekSyncResource
) -> list[dg.RunRequest] | dg.SkipReason:
    """Pending and unknown uploads retried, missing files fetched again, callbacks applied, and
    Onderwijsregio mutations without a callback confirmed by reading back, for each active hirer."""
    hirers = context.instance.get_dynamic_partitions(hirer_partitions.name)
    if not hirers:
        return dg.SkipReason("no hirer partitions yet")
    when = context.scheduled_execution_time
    day = when.strftime("%Y-%m-%d") if when else "manual"
    inbox = seek_sync.inbox()
    removed = set(keys_of(inbox, removed_hirers(inbox)).values())
    return reconcile_requests(list(hirers), removed, day)  # in the order added


seek_deletions_schedule = dg.ScheduleDefinition(
    name="seek_deletions_hourly",
    job_name="seek_deletions",
    cron_schedule="17 * * * *",
    run_config={"ops": {"follow_seek_deletions": {"config": REAL_RUN}}},
    description="Each hour, the least recently checked profiles re-read for SEEK's deletions "
    "(SEEK_SYNC_REDACTION_RECHECK_PER_RUN per run).",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


retention_schedule = dg.ScheduleDefinition(
    name="retention_daily",
    job_name="retention",
    cron_schedule="40 3 * * *",
    run_config={"ops": {"apply_retention_limits": {"config": REAL_RUN}}},
    execution_timezone="UTC",
    description="Each night, what is past its retention limit removed (SEEK_SYNC_RETENTION_*): "
    "confirmed files' blobs, old applications, removed hirers, inbox rows, old runs.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
