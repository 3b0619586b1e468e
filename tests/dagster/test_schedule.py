"""`nightly_reconcile`: confirms by reading back what no callback confirmed, for active hirers."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from seek_sync.demo import DriveReport, drive_until_idle
from seek_sync.driver import Driver
from seek_sync.local_stack import LocalStack
from seek_sync.pipeline.hirers import RELATIONSHIP, REMOVED
from seek_sync.resources import SeekSyncResource
from seek_sync.schedules import RANGE_END, RANGE_START, nightly_reconcile, reconcile_requests
from seek_sync.store.summary import per_hirer
from tests.dagster.conftest import inbox_of, warehouse_of


def evaluate(instance: dg.DagsterInstance, day: int = 24) -> list[dg.RunRequest]:
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2026, 11, day, 2, 15, tzinfo=UTC),
        resources={"seek_sync": SeekSyncResource()},
    )
    result = nightly_reconcile(context)
    assert isinstance(result, list)
    return result


def test_lost_callbacks_are_confirmed_by_the_nightly_read_back(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    stack.sandbox.state.fakes["onderwijsregio"].set_faults(lose_callbacks=10_000)
    driver = Driver(instance, log_level="WARNING")
    drive_until_idle(driver, stack, DriveReport())
    waiting = per_hirer(warehouse_of(stack))
    onderwijsregio = waiting[waiting.mapped_target == "onderwijsregio"]
    assert int(onderwijsregio["open"].sum()) > 0  # accepted, never confirmed: no callback came

    # Night one confirms what was read back and sends what waited for a lost create callback (a
    # repeat applicant's second application); night two confirms those by reading back too.
    job = driver.defs.resolve_job_def("hirer_sync")
    for day in (24, 25):
        requests = evaluate(instance, day)
        assert len(requests) == 1  # every hirer in one range run
        assert covered(requests, driver.partition_keys()) == driver.partition_keys()
        assert all(
            r.run_key and r.run_key.startswith(f"reconcile|2026-11-{day}|") for r in requests
        )
        for request in requests:
            run = job.execute_in_process(
                run_config=request.run_config, instance=instance, tags=request.tags
            )
            assert run.success
    after = per_hirer(warehouse_of(stack))
    assert int(after["open"].sum()) == 0
    assert int(after["confirmed"].sum()) == int(waiting["confirmed"].sum()) + int(
        waiting["open"].sum()
    )


def test_removed_hirers_are_left_out_of_the_nightly_run(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    hirers = sorted(stack.targets)
    instance.add_dynamic_partitions("hirer", hirers)
    inbox_of(stack).set_cursor(RELATIONSHIP + hirers[1], REMOVED)
    requests = evaluate(instance)
    assert covered(requests, hirers) == [hirers[0], *hirers[2:]]
    assert len(requests) == 2  # the removed hirer splits the range


def test_a_night_of_many_hirers_launches_a_bounded_number_of_runs() -> None:
    hirers = [f"h{n:04d}" for n in range(1000)]
    requests = reconcile_requests(hirers, {"h0500"}, "2026-11-24")
    assert len(requests) == 20  # 500 hirers, then 499, in ranges of at most 50
    assert covered(requests, hirers) == [h for h in hirers if h != "h0500"]


def covered(requests: list[dg.RunRequest], order: list[str]) -> list[str]:
    """The hirers the range requests cover, in partition order."""
    found: list[str] = []
    for request in requests:
        start = order.index(request.tags[RANGE_START])
        found += order[start : order.index(request.tags[RANGE_END]) + 1]
    return found
