"""`nightly_reconcile`: every active hirer once a night, retrying what is still open."""

import dagster as dg

from seek_sync.jobs import hirer_sync
from seek_sync.partitions import hirer_partitions
from seek_sync.pipeline.hirers import removed_hirers
from seek_sync.resources import SeekSyncResource

RECONCILE_CONFIG = {"ops": {"attachment_files": {"config": {"retry_missing": True}}}}


def reconcile_requests(hirer_ids: list[str], removed: set[str], day: str) -> list[dg.RunRequest]:
    return [
        dg.RunRequest(
            run_key=f"reconcile|{day}|{hirer_id}",
            partition_key=hirer_id,
            run_config=RECONCILE_CONFIG,
            tags={"seek_sync/trigger": "nightly_reconcile"},
        )
        for hirer_id in sorted(hirer_ids)
        if hirer_id not in removed
    ]


@dg.schedule(
    name="nightly_reconcile",
    job=hirer_sync,
    cron_schedule="15 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
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
    return reconcile_requests(list(hirers), removed_hirers(seek_sync.inbox()), day)
