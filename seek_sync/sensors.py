"""`seek_applications`: poll SEEK into the inbox, then one run per hirer with new work."""

import time

import dagster as dg

from seek_sync.inbox import Inbox
from seek_sync.jobs import hirer_sync, hirers_refresh
from seek_sync.partitions import hirer_partitions
from seek_sync.pipeline.events import RELATIONSHIP_CHANGED
from seek_sync.pipeline.hirers import refresh_relationships
from seek_sync.pipeline.ticks import TickCursor, TickPlan, plan_tick
from seek_sync.poller import PollReport, poll
from seek_sync.resources import SeekSyncResource
from seek_sync.seek.client import SeekClient


async def _poll(client: SeekClient, inbox: Inbox, after_seq: int) -> tuple[PollReport, list[str]]:
    """New events into the inbox; the relationships of hirers with a relationship event re-read."""
    report = await poll(client, inbox, budget_seconds=client.settings.sensor_poll_budget_seconds)
    changed = inbox.hirers_with_events(after_seq, RELATIONSHIP_CHANGED)
    await refresh_relationships(client, inbox, changed)
    return report, changed


def sensor_result(plan: TickPlan, relationship_changes: bool) -> dg.SensorResult:
    """The run requests, partition additions and cursor of one tick, in one result."""
    requests = [
        dg.RunRequest(
            run_key=work.run_key(plan.cursor),
            job_name=hirer_sync.name,
            partition_key=work.hirer_id,
            run_config={"ops": {"application_events": {"config": {"upto_seq": work.upto_seq}}}},
            tags={"seek_sync/events": str(work.events), "seek_sync/callbacks": str(work.callbacks)},
        )
        for work in plan.work
    ]
    if plan.new_hirers or relationship_changes:
        requests.append(
            dg.RunRequest(
                run_key=f"hirers|events:{plan.cursor.events}", job_name=hirers_refresh.name
            )
        )
    adds = [hirer_partitions.build_add_request(plan.new_hirers)] if plan.new_hirers else []
    return dg.SensorResult(
        run_requests=requests, dynamic_partitions_requests=adds, cursor=plan.cursor.to_json()
    )


@dg.sensor(
    name="seek_applications",
    jobs=[hirer_sync, hirers_refresh],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def seek_applications(
    context: dg.SensorEvaluationContext, seek_sync: SeekSyncResource
) -> dg.SensorResult | dg.SkipReason:
    """Polls SEEK into the inbox (time-boxed), adds new hirers, requests one run per hirer."""
    started = time.monotonic()
    cursor = TickCursor.parse(context.cursor)
    inbox = seek_sync.inbox()
    report, changed = seek_sync.with_seek(lambda client: _poll(client, inbox, cursor.events))
    for error in report.errors:
        context.log.warning("polling stopped early: %s", error)
    plan = plan_tick(
        inbox,
        cursor,
        lambda h: context.instance.has_dynamic_partition(hirer_partitions.name, h),
    )
    context.log.info(
        "polled %d new events in %.1f s; %d hirer(s) with work, %d new, %d removed, "
        "%d event(s) without a hirer; tick took %.2f s",
        report.events_new,
        report.seconds,
        len(plan.work),
        len(plan.new_hirers),
        len(plan.removed),
        plan.unknown_hirer,
        time.monotonic() - started,
    )
    if not plan.work and not plan.new_hirers and plan.cursor == cursor:
        return dg.SkipReason(f"no new events or callbacks past {cursor.to_json()}")
    return sensor_result(plan, bool(changed))
