"""The `seek_applications` sensor through `build_sensor_context` on a real instance and sandbox."""

from __future__ import annotations

import json
import time

import dagster as dg

from seek_sync.inbox import InboxEvent
from seek_sync.local_stack import LocalStack
from seek_sync.pipeline.ticks import TickCursor, plan_tick
from seek_sync.resources import SeekSyncResource
from seek_sync.sensors import seek_applications, sensor_result
from tests.dagster.conftest import inbox_of

HIRER_JOB, HIRERS_JOB = "hirer_sync", "hirers_refresh"


def tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"seek_sync": SeekSyncResource()}
    )
    return seek_applications(context)  # type: ignore[no-any-return]


def apply(instance: dg.DagsterInstance, result: dg.SensorResult) -> None:
    """What the daemon does with the partition requests of a tick."""
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def related_hirers_with_applications(stack: LocalStack) -> set[str]:
    world = stack.sandbox.state.world
    return {a.hirer_id for a in world.applications.values() if a.hirer_id in stack.targets}


def test_first_tick_adds_hirers_and_asks_one_run_per_hirer(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    result = tick(instance, None)
    assert isinstance(result, dg.SensorResult)
    hirers = related_hirers_with_applications(stack)
    runs = [r for r in result.run_requests or [] if r.job_name == HIRER_JOB]
    assert {r.partition_key for r in runs} == hirers  # one per hirer, never one per application
    assert len(runs) == len(hirers)
    [add] = result.dynamic_partitions_requests or []
    assert set(add.partition_keys) == hirers
    assert [r.job_name for r in result.run_requests or []].count(HIRERS_JOB) == 1
    cursor = TickCursor.parse(result.cursor)
    assert cursor.events == inbox_of(stack).max_seq() == len(stack.sandbox.state.world.events)
    for request in runs:  # a tiny run config: the inbox seq the run covers, nothing else
        assert request.run_config == {
            "ops": {"application_events": {"config": {"upto_seq": cursor.events}}}
        }
        assert (
            request.run_key and request.partition_key and request.partition_key in request.run_key
        )


def test_a_repeated_tick_creates_no_extra_work(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    first = tick(instance, None)
    assert isinstance(first, dg.SensorResult)
    apply(instance, first)
    again = tick(instance, None)  # the same tick again (e.g. the result was not stored)
    assert isinstance(again, dg.SensorResult)
    keys = sorted(r.run_key or "" for r in first.run_requests or [])
    assert sorted(r.run_key or "" for r in again.run_requests or []) == keys  # deduped by run_key
    assert not again.dynamic_partitions_requests  # partitions already there
    after = tick(instance, first.cursor)
    assert isinstance(after, dg.SkipReason)


def test_nothing_is_lost_across_a_crash_between_ticks(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    crashed = tick(instance, None)  # polled into the inbox, then the process died: no cursor
    assert isinstance(crashed, dg.SensorResult)
    added = stack.sandbox.state.world.add_applications(4)
    result = tick(instance, None)
    assert isinstance(result, dg.SensorResult)
    runs = [r for r in result.run_requests or [] if r.job_name == HIRER_JOB]
    covered = sum(int(r.tags["seek_sync/events"]) for r in runs)
    inbox = inbox_of(stack)
    served = sum(p.count for h, p in inbox.pending_by_hirer(0).items() if h in stack.targets)
    assert covered == served  # every recorded event of a served hirer is in some run's range
    assert {e.id for e in added} <= {e.event_id for e in inbox.events_after(0)}
    assert TickCursor.parse(result.cursor).events == inbox.max_seq()


def test_a_removed_relationship_stops_new_work_and_keeps_the_data(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    first = tick(instance, None)
    assert isinstance(first, dg.SensorResult)
    apply(instance, first)
    world = stack.sandbox.state.world
    gone = sorted(related_hirers_with_applications(stack))[0]
    kept_events = len(inbox_of(stack).events_for_hirer(gone))
    world.remove_relationship(gone)
    world.add_applications(6)
    result = tick(instance, first.cursor)
    assert isinstance(result, dg.SensorResult)
    asked = {r.partition_key for r in result.run_requests or [] if r.job_name == HIRER_JOB}
    assert gone not in asked
    assert any(r.job_name == HIRERS_JOB for r in result.run_requests or [])  # hirers table updated
    assert instance.has_dynamic_partition("hirer", gone)  # the partition and its history stay
    assert len(inbox_of(stack).events_for_hirer(gone)) >= kept_events  # nothing deleted
    later = tick(instance, result.cursor)
    if isinstance(later, dg.SensorResult):
        assert gone not in {r.partition_key for r in later.run_requests or []}


def test_ten_thousand_pending_events_make_one_request_per_hirer(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    inbox = inbox_of(stack)
    hirers = [f"seekAnzPublicTest:organization:seek:load{n:04d}" for n in range(50)]
    events = [
        InboxEvent(
            event_id=f"load-{n}",
            type_code="CandidateApplicationCreated",
            source="webhook",
            hirer_id=hirers[n % len(hirers)],
            profile_id=f"profile-{n}",
            raw={"n": n},
        )
        for n in range(10_000)
    ]
    inbox.add_events(events)
    started = time.perf_counter()
    plan = plan_tick(inbox, TickCursor(), lambda h: False)
    result = sensor_result(plan, relationship_changes=False)
    seconds = time.perf_counter() - started
    runs = [r for r in result.run_requests or [] if r.job_name == HIRER_JOB]
    assert {r.partition_key for r in runs} >= set(hirers)
    assert sum(int(r.tags["seek_sync/events"]) for r in runs if r.partition_key in hirers) == 10_000
    assert len(json.loads(result.cursor or "{}")) == 2  # the cursor stays two numbers
    print(f"\nplan + result for 10,000 pending events over 50 hirers: {seconds * 1000:.0f} ms")
