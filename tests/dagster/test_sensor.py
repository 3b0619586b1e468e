"""The `seek_applications` sensor through `build_sensor_context` on a real instance and sandbox:
runs and partitions for new hirers (keyed by their names), and an earlier release's partitions
renamed in place."""

from __future__ import annotations

import time

import dagster as dg

from seek_sync.hirer_slugs import make_key
from seek_sync.ids import hirer_token
from seek_sync.local_stack import LocalStack
from seek_sync.partitions import HIRER_TAG, hirer_partitions
from seek_sync.pipeline.ticks import plan_tick
from seek_sync.resources import SeekSyncResource
from seek_sync.runstate.hirer_keys import HirerKeys
from seek_sync.runstate.inbox import InboxEvent
from seek_sync.runstate.leases import Leases
from seek_sync.runstate.processes import Holder
from seek_sync.sensors import POLL_SEEK, seek_applications
from tests.dagster.conftest import inbox_of

BATCH_JOB, HIRERS_JOB = "hirer_batch", "hirers_refresh"


def tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"seek_sync": SeekSyncResource()}
    )
    return seek_applications(context)  # type: ignore[no-any-return]


def apply(instance: dg.DagsterInstance, result: dg.SensorResult) -> None:
    """What the daemon does with the partition requests of a tick."""
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def batch_hirers(result: dg.SensorResult) -> list[str]:
    return [
        h
        for r in result.run_requests or []
        if r.job_name == BATCH_JOB
        for h in r.run_config["ops"]["sync_hirers"]["config"]["hirers"]
    ]


def related_hirers_with_applications(stack: LocalStack) -> set[str]:
    world = stack.sandbox.state.world
    return {a.hirer_id for a in world.applications.values() if a.hirer_id in stack.targets}


def test_first_tick_adds_hirers_and_batches_them_into_one_run(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    result = tick(instance, None)
    assert isinstance(result, dg.SensorResult)
    hirers = related_hirers_with_applications(stack)
    runs = [r for r in result.run_requests or [] if r.job_name == BATCH_JOB]
    assert len(runs) == 1  # a handful of hirers: one run, never one per hirer or application
    assert sorted(batch_hirers(result)) == sorted(hirers)
    [add] = result.dynamic_partitions_requests or []
    keys = HirerKeys(inbox_of(stack)).all()  # made in this tick, from SEEK's names
    assert set(keys) == hirers and set(add.partition_keys) == set(keys.values())
    world = stack.sandbox.state.world
    for hirer_id, key in keys.items():
        assert key == make_key(hirer_id, world.hirers[hirer_id].name)  # SEEK's name, read now
        assert key.endswith(hirer_token(hirer_id)[-4:]) and not key.startswith("hirer-")
    assert [r.job_name for r in result.run_requests or []].count(HIRERS_JOB) == 1
    [run] = runs
    config = run.run_config["ops"]["sync_hirers"]["config"]
    assert config["reserved_as"] == run.run_key  # the run claims what the tick reserved
    assert run.tags["seek_sync/hirers"] == str(len(hirers)) and HIRER_TAG not in run.tags


def test_a_repeated_tick_hands_out_nothing_twice(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    first = tick(instance, None)
    assert isinstance(first, dg.SensorResult)
    apply(instance, first)
    # The same tick again (the daemon lost the result, or a second `sync` at the same moment):
    # every due hirer is reserved for the first tick's run, which has not ended.
    again = tick(instance, None)
    assert not isinstance(again, dg.SensorResult) or batch_hirers(again) == []


def test_a_reservation_whose_run_never_started_lapses(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    first = tick(instance, None)
    assert isinstance(first, dg.SensorResult)
    inbox = inbox_of(stack)
    with inbox.transaction() as conn:  # the reserving process is long gone
        conn.execute("UPDATE leases SET pid = 999999999, pid_started = 1")
    again = tick(instance, first.cursor)
    assert isinstance(again, dg.SensorResult)
    assert sorted(batch_hirers(again)) == sorted(batch_hirers(first))  # owed, handed out again


def test_a_removed_relationship_stops_new_work_and_keeps_the_data(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    first = tick(instance, None)
    assert isinstance(first, dg.SensorResult)
    apply(instance, first)
    Leases(inbox_of(stack)).release(first.run_requests[0].run_key)  # type: ignore[index]
    world = stack.sandbox.state.world
    gone = sorted(related_hirers_with_applications(stack))[0]
    kept_events = len(inbox_of(stack).events_for_hirer(gone))
    world.remove_relationship(gone)
    world.add_applications(6)
    result = tick(instance, first.cursor)
    assert isinstance(result, dg.SensorResult)
    assert gone not in batch_hirers(result)
    assert any(r.job_name == HIRERS_JOB for r in result.run_requests or [])  # hirers table updated
    key = HirerKeys(inbox_of(stack)).keys_of([gone])[gone]
    assert instance.has_dynamic_partition("hirer", key)  # the partition and its history stay
    assert len(inbox_of(stack).events_for_hirer(gone)) >= kept_events  # nothing deleted


def test_ten_thousand_events_over_500_hirers_make_a_bounded_number_of_runs(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    inbox = inbox_of(stack)
    hirers = [f"seekAnzPublicTest:organization:seek:load{n:04d}" for n in range(500)]
    inbox.add_events(
        [
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
    )
    started = time.perf_counter()
    plan = plan_tick(
        inbox, Leases(inbox), lambda h: False, hirers_per_run=50, max_runs=4, holder=Holder.me()
    )
    seconds = time.perf_counter() - started
    assert len(plan.runs) == 4 and all(len(r.hirer_ids) == 50 for r in plan.runs)
    assert plan.left == len(plan.due) - 200 >= 300  # the rest waits for the next tick
    handed = set(plan.hirers)
    second = plan_tick(
        inbox, Leases(inbox), lambda h: True, hirers_per_run=50, max_runs=4, holder=Holder.me()
    )
    assert not handed & set(second.hirers)  # reserved hirers are not handed out twice
    print(f"\nplan for 10,000 events over 500 hirers: {seconds * 1000:.0f} ms")


def test_a_tick_woken_by_the_inbox_asks_seek_nothing(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    """`sync --loop` woken by a stored webhook before SEEK's poll is due: no poll, no token."""
    polling = POLL_SEEK.set(False)
    try:
        woken = tick(instance, None)
    finally:
        POLL_SEEK.reset(polling)
    assert isinstance(woken, dg.SkipReason)  # the inbox is empty and SEEK was not asked
    assert inbox_of(stack).max_seq() == 0
    assert stack.sandbox.count("graphql") == stack.sandbox.count("token") == 0
    polled = tick(instance, None)  # the default: every evaluation polls
    assert isinstance(polled, dg.SensorResult) and inbox_of(stack).max_seq() > 0
    assert stack.sandbox.count("graphql") > 0


def test_a_tick_renames_the_partitions_of_an_earlier_release_in_place(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    """Partitions keyed by SEEK hirer ids (every release before hirer keys) get their hirers' keys;
    each asset's latest materialization comes along, and nothing else changes."""
    old = sorted(related_hirers_with_applications(stack))
    instance.add_dynamic_partitions(hirer_partitions.name, old)
    for n, hirer_id in enumerate(old):
        for rows in (1, 10 + n):  # the later one is what the new partition must show
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    "ats_uploads", partition=hirer_id, metadata={"dagster/row_count": rows}
                )
            )
    result = tick(instance, None)
    assert isinstance(result, dg.SensorResult)
    keys = HirerKeys(inbox_of(stack)).all()
    assert sorted(instance.get_dynamic_partitions(hirer_partitions.name)) == sorted(
        keys[h] for h in old
    )
    assert result.dynamic_partitions_requests == []  # every hirer has its partition already
    for n, hirer_id in enumerate(old):
        [latest] = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey("ats_uploads"), asset_partitions=[keys[hirer_id]]
            ),
            limit=5,
        ).records
        materialization = latest.asset_materialization
        assert materialization is not None
        assert materialization.metadata["dagster/row_count"].value == 10 + n
        assert hirer_id in (materialization.description or "")  # says where it came from
    again = tick(instance, result.cursor)  # nothing left to rename, nothing carried twice
    assert not isinstance(again, dg.SensorResult) or again.dynamic_partitions_requests == []
    assert sorted(instance.get_dynamic_partitions(hirer_partitions.name)) == sorted(
        keys[h] for h in old
    )
