"""`seek_applications`: poll SEEK into the inbox, bury dead runs, hand due hirers out in runs."""

import json
import logging
import time
from collections.abc import Mapping

import dagster as dg

from seek_sync.dead_runs import bury_dead_runs
from seek_sync.ids import is_hirer_id, shown
from seek_sync.jobs import hirer_batch, hirers_refresh
from seek_sync.partitions import hirer_partitions, hirer_tags
from seek_sync.pipeline.events import RELATIONSHIP_CHANGED
from seek_sync.pipeline.hirers import hirer_names, refresh_relationships
from seek_sync.pipeline.ticks import TickPlan, plan_tick
from seek_sync.poller import PollReport, poll
from seek_sync.resources import SeekSyncResource
from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.leases import leases_for
from seek_sync.runstate.processes import Holder
from seek_sync.seek.client import SeekClient


async def _poll(
    client: SeekClient, inbox: Inbox, after_seq: int, budget_seconds: float
) -> tuple[PollReport, list[str]]:
    """New events into the inbox; the relationships of hirers with a relationship event re-read."""
    report = await poll(client, inbox, budget_seconds=budget_seconds)
    changed = inbox.hirers_with_events(after_seq, RELATIONSHIP_CHANGED)
    await refresh_relationships(client, inbox, changed)
    return report, changed


def cursor_seq(cursor: str | None) -> int:
    """The inbox events seq up to which relationship events were read. A cursor of release
    ea5e8aa (`{"events": n, "callbacks": m}`) reads as its events seq."""
    if not cursor:
        return 0
    if cursor.lstrip().startswith("{"):
        return int(json.loads(cursor).get("events", 0))
    return int(cursor)


def partition_keys(hirer_ids: list[str], log: logging.Logger) -> list[str]:
    """The hirers that may become partitions: SEEK hirer ids only (each other one logged, as a
    short ASCII repr); the inbox stores no other, so this only guards older data."""
    for hirer_id in hirer_ids:
        if not is_hirer_id(hirer_id):
            log.warning("no partition for %s: not a SEEK hirer id", shown(hirer_id))
    return [h for h in hirer_ids if is_hirer_id(h)]


def run_requests(
    plan: TickPlan, refresh_hirers: bool, seq: int, names: Mapping[str, str]
) -> list[dg.RunRequest]:
    """One `hirer_batch` run per planned batch of hirers, tagged with the hirers' names (plus a
    hirers-table refresh)."""
    requests = [
        dg.RunRequest(
            run_key=run.run_key,
            job_name=hirer_batch.name,
            run_config={
                "ops": {
                    "sync_hirers": {"config": {"hirers": run.hirer_ids, "reserved_as": run.run_key}}
                }
            },
            tags=hirer_tags(run.hirer_ids, names),
        )
        for run in plan.runs
    ]
    if refresh_hirers:
        requests.append(dg.RunRequest(run_key=f"hirers|events:{seq}", job_name=hirers_refresh.name))
    return requests


@dg.sensor(
    name="seek_applications",
    jobs=[hirer_batch, hirers_refresh],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def seek_applications(
    context: dg.SensorEvaluationContext, seek_sync: SeekSyncResource
) -> dg.SensorResult | dg.SkipReason:
    """Polls SEEK into the inbox (time-boxed), buries dead runs, requests runs for due hirers."""
    started = time.monotonic()
    settings, inbox = seek_sync.settings(), seek_sync.inbox()
    leases = leases_for(settings, inbox)
    buried = bury_dead_runs(context.instance, leases)
    seen = cursor_seq(context.cursor)
    budget = settings.sensor_poll_budget_seconds
    report, changed = seek_sync.with_seek(lambda client: _poll(client, inbox, seen, budget))
    for error in report.errors:
        context.log.warning("polling stopped early: %s", error)
    plan = plan_tick(
        inbox,
        leases,
        lambda h: context.instance.has_dynamic_partition(hirer_partitions.name, h),
        hirers_per_run=settings.hirers_per_run,
        max_runs=settings.runs_per_tick,
        holder=Holder.me(),
    )
    context.log.info(
        "polled %d new events in %.1f s; %d hirer(s) due, %d held by live runs, %d left for the "
        "next tick, %d new, %d removed, %d event(s) without a hirer, %d dead run(s) buried; "
        "%d run(s) requested; tick took %.2f s",
        report.events_new,
        report.seconds,
        len(plan.due),
        len(plan.held),
        plan.left,
        len(plan.new_hirers),
        len(plan.removed),
        plan.unknown_hirer,
        len(buried),
        len(plan.runs),
        time.monotonic() - started,
    )
    seq = inbox.max_seq()
    requests = run_requests(plan, bool(plan.new_hirers or changed), seq, hirer_names(inbox))
    if not requests and seq == seen:
        return dg.SkipReason(f"no hirer due ({len(plan.held)} held by live runs)")
    keys = partition_keys(plan.new_hirers, context.log)
    adds = [hirer_partitions.build_add_request(keys)] if keys else []
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=adds, cursor=str(seq))
