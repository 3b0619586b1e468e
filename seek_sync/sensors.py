"""`seek_applications`: poll SEEK into the inbox, bury dead runs, hand due hirers out in runs."""

import json
import logging
import time
from collections.abc import Mapping
from contextvars import ContextVar

import dagster as dg

from seek_sync.dead_runs import bury_dead_runs
from seek_sync.jobs import hirer_batch, hirers_refresh
from seek_sync.partition_upgrade import rename_old_partitions
from seek_sync.partitions import hirer_partitions, hirer_tags
from seek_sync.pipeline.events import RELATIONSHIP_CHANGED
from seek_sync.pipeline.hirers import learn_names, refresh_relationships
from seek_sync.pipeline.naming import KeyMaker
from seek_sync.pipeline.ticks import TickPlan, plan_tick
from seek_sync.poller import PollReport, poll
from seek_sync.pools import ensure_pools
from seek_sync.resources import SeekSyncResource
from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.leases import leases_for
from seek_sync.seek.client import SeekClient
from seek_sync.settings import SensorFields, load

# Whether this evaluation polls SEEK's events query. Always, but for a tick `sync --loop` starts
# because the inbox moved (a webhook or callback stored) before SEEK's poll interval came round:
# that input is in the inbox already, and SEEK keeps being polled at its own interval.
POLL_SEEK: ContextVar[bool] = ContextVar("seek_sync_poll_seek", default=True)


async def _poll(
    client: SeekClient, inbox: Inbox, after_seq: int, budget_seconds: float, poll_seek: bool
) -> tuple[PollReport, list[str]]:
    """New events into the inbox; the relationships of hirers with a relationship event re-read."""
    report = await poll(client, inbox, budget_seconds=budget_seconds) if poll_seek else PollReport()
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


def key_maker(seek_sync: SeekSyncResource, inbox: Inbox, log: logging.Logger) -> KeyMaker:
    """Partition keys for new hirers, their names asked of SEEK when the inbox has none."""
    return KeyMaker(
        inbox, lambda: seek_sync.with_seek(lambda client: learn_names(client, inbox)), log
    )


def run_requests(
    plan: TickPlan, refresh_hirers: bool, seq: int, keys: Mapping[str, str]
) -> list[dg.RunRequest]:
    """One `hirer_batch` run per planned batch of hirers, tagged with the hirers' keys (plus a
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
            tags=hirer_tags([keys[h] for h in run.hirer_ids]),
        )
        for run in plan.runs
    ]
    if refresh_hirers:
        requests.append(dg.RunRequest(run_key=f"hirers|events:{seq}", job_name=hirers_refresh.name))
    return requests


def switched_to_on_demand(seek_sync: SeekSyncResource) -> list[str]:
    """Hirers on demand that still hold blobs (switched since): their run deletes them now."""
    targets = seek_sync.targets()
    if targets is None or not targets.on_demand():
        return []
    blobs = seek_sync.blobs()
    return [h for h in sorted(targets.on_demand()) if blobs.holds(h)]


# Read once, when the code location loads (the daemon reads it from the location):
# `SEEK_SYNC_SENSOR_INTERVAL_SECONDS`, default 30.
INTERVAL = load(SensorFields).sensor_interval_seconds


@dg.sensor(
    name="seek_applications",
    jobs=[hirer_batch, hirers_refresh],
    minimum_interval_seconds=INTERVAL,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Every {INTERVAL} s: polls SEEK into the inbox (time-boxed), marks runs whose "
    "process is gone as failed, adds new hirers as partitions (keyed by a slug of the hirer's "
    "name; an earlier release's partitions renamed so) and requests `hirer_batch` runs for the "
    "hirers that still owe work (plus a `hirers_refresh` when hirers or relationships change).",
)
def seek_applications(
    context: dg.SensorEvaluationContext, seek_sync: SeekSyncResource
) -> dg.SensorResult | dg.SkipReason:
    """Polls SEEK into the inbox (time-boxed), buries dead runs, requests runs for due hirers."""
    started = time.monotonic()
    settings, inbox = seek_sync.settings(), seek_sync.inbox()
    leases = leases_for(settings, inbox)
    buried = bury_dead_runs(context.instance, leases)
    ensure_pools(context.instance)  # before any run claims a pool (seek_sync/pools.py)
    seen = cursor_seq(context.cursor)
    budget, poll_seek = settings.sensor_poll_budget_seconds, POLL_SEEK.get()
    if poll_seek or inbox.hirers_with_events(seen, RELATIONSHIP_CHANGED):
        report, changed = seek_sync.with_seek(
            lambda client: _poll(client, inbox, seen, budget, poll_seek)
        )
    else:  # nothing for SEEK to answer: no client, no token
        report, changed = PollReport(), []
    for error in report.errors:
        context.log.warning("polling stopped early: %s", error)
    maker = key_maker(seek_sync, inbox, context.log)
    rename_old_partitions(context.instance, maker, context.log)
    plan = plan_tick(
        inbox,
        leases,
        lambda h: context.instance.has_dynamic_partition(hirer_partitions.name, maker.key(h)),
        hirers_per_run=settings.hirers_per_run,
        max_runs=settings.runs_per_tick,
        holder=leases.me(),
        switched=switched_to_on_demand(seek_sync),
        unready=maker.unready,
    )
    context.log.info(
        "polled %d new events in %.1f s; %d hirer(s) due, %d held by live runs, %d left for the "
        "next tick, %d new, %d waiting for a name, %d removed, %d event(s) without a hirer, "
        "%d dead run(s) buried; %d run(s) requested; tick took %.2f s",
        report.events_new,
        report.seconds,
        len(plan.due),
        len(plan.held),
        plan.left,
        len(plan.new_hirers),
        len(plan.waiting),
        len(plan.removed),
        plan.unknown_hirer,
        len(buried),
        len(plan.runs),
        time.monotonic() - started,
    )
    seq = inbox.max_seq()
    requests = run_requests(plan, bool(plan.new_hirers or changed), seq, maker.keys)
    if not requests and seq == seen:
        return dg.SkipReason(f"no hirer due ({len(plan.held)} held by live runs)")
    new_keys = [maker.key(h) for h in plan.new_hirers]
    adds = [hirer_partitions.build_add_request(new_keys)] if new_keys else []
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=adds, cursor=str(seq))
