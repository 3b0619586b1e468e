"""Four hirers materialized at once, each by its own `dagster asset materialize` process with the
code location's default executor (in process: steps one after another in the run's process, as
UI materializations and backfills run on a Celery worker) but one, whose run config asks for the
multiprocess executor (one process per step), on a real temporary instance with the pool limits
of `dagster-instance.yaml` the project ships (`seek_api` and `ats_api`, two steps each at a time
across runs).

All four runs succeed, nothing fails on the DuckDB lock (one warehouse file, many writers), the
pools really held (never more than two steps of a pool running at once), and the result is the
same as running the four hirers one after another on a fresh stack of the same seed: every
warehouse table row for row (timestamps and the ATSs' own ids aside), and the files the
Onderwijsregio and Kombo fakes stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from seek_sync.backend import open_warehouse
from seek_sync.definitions import defs
from seek_sync.local_stack import LocalStack, local_stack
from seek_sync.sandbox.config import SandboxConfig
from tests.dagster.cli_runs import (
    MULTIPROCESS,
    Rows,
    add_hirer_partitions,
    lock_failures,
    materialize_all,
    warehouse_rows,
)
from tests.dagster.conftest import poll_inbox

# Five hirers, the last without a relationship: four to sync, two per ATS kind.
CONFIG = SandboxConfig(applications=24, hirers=5, edge_cases=False)
POOLS = {"candidate_profiles": "seek_api", "attachment_files": "seek_api", "ats_push": "ats_api"}
POOL_LIMIT = 2  # dagster-instance.yaml: concurrency.pools.default_limit
# Minted by the fakes, or dependent on which hirer's run reached a shared ATS store first (two
# sandbox hirers share one Onderwijsregio store and one Kombo integration, and some people apply
# to both): which request created a person, and so which keys and attempt counts a file got.
ATS_IDS = frozenset({"ats_id", "ats_attachment_id", "idempotency_key", "attempts", "failures"})
SETTLE_ROUNDS = 3


@dataclass
class Outcome:
    rows: Rows
    sent: dict[str, int]


def prepared(stack: LocalStack) -> list[str]:
    """The events in the inbox and the four hirer partitions on the instance, as after a tick."""
    hirers = sorted(stack.targets)
    assert (
        len(hirers) == 4
        and sorted(stack.targets.values()) == ["kombo"] * 2 + ["onderwijsregio"] * 2
    )
    report = poll_inbox()
    assert report.errors == [] and report.events_new > len(hirers)
    add_hirer_partitions(hirers)
    return hirers


def most_at_once(spans: Iterable[tuple[float, float]]) -> int:
    """The largest number of (start, end) spans open at one moment (an end closes first)."""
    edges = sorted([(end, -1) for _, end in spans] + [(start, 1) for start, _ in spans])
    open_now = most = 0
    for _, step in edges:
        open_now += step
        most = max(most, open_now)
    return most


def pool_spans(
    instance: dg.DagsterInstance, run_ids: list[str]
) -> dict[str, list[tuple[float, float]]]:
    """pool -> (STEP_START, STEP_SUCCESS) times of every step of that pool, over all runs."""
    spans: dict[str, list[tuple[float, float]]] = {pool: [] for pool in POOLS.values()}
    for run_id in run_ids:
        started: dict[str, float] = {}
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None or event.step_key not in POOLS:
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                started[event.step_key] = entry.timestamp
            elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                spans[POOLS[event.step_key]].append((started[event.step_key], entry.timestamp))
    return spans


def check_instance(instance: dg.DagsterInstance, hirers: list[str]) -> None:
    """Pool limits configured, four successful runs (one per hirer), the pools held."""
    assert instance.get_concurrency_config().pool_config.default_pool_limit == POOL_LIMIT
    for pool in set(POOLS.values()):
        info = instance.event_log_storage.get_concurrency_info(pool)
        assert info.slot_count == POOL_LIMIT, pool
        assert info.active_slot_count == 0 and info.pending_step_count == 0, pool
    runs = instance.get_runs()
    assert sorted(r.tags.get("dagster/partition", "") for r in runs) == hirers
    assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    run_ids = [r.run_id for r in runs]
    for run_id in run_ids:
        logs = instance.all_logs(run_id)
        assert not [e for e in logs if e.dagster_event and e.dagster_event.is_step_failure]
        assert not lock_failures("\n".join(repr(e) for e in logs))
    spans = pool_spans(instance, run_ids)
    assert len(spans["seek_api"]) == 2 * len(hirers) and len(spans["ats_api"]) == len(hirers)
    for pool, pool_steps in spans.items():
        assert most_at_once(pool_steps) <= POOL_LIMIT, pool


def open_work(stack: LocalStack) -> int:
    """Uploads not yet confirmed or rejected, and creates still waiting for their callback."""
    warehouse = open_warehouse(stack.settings)
    return int(
        warehouse.query(
            "SELECT (SELECT COUNT(*) FROM ats_uploads WHERE state NOT IN ('confirmed', 'rejected'))"
            " + (SELECT COUNT(*) FROM ats_candidates WHERE state = 'pending_create') AS n"
        )["n"][0]
    )


def settle(stack: LocalStack, hirers: list[str], instance: dg.DagsterInstance) -> None:
    """Run every hirer again (as the callback-triggered runs would) until nothing is open.

    A first pass leaves work that waits for an asynchronous create, and how much depends on which
    hirer's run reached a shared ATS store first; once settled, both orders must agree.
    """
    job = defs.resolve_job_def("hirer_sync")
    for _ in range(SETTLE_ROUNDS):
        if open_work(stack) == 0:
            return
        for hirer_id in hirers:
            assert job.execute_in_process(instance=instance, partition_key=hirer_id).success
            assert stack.wait_for_fakes(60)
    assert open_work(stack) == 0, "uploads still open after settling"


def at_once(home: Path) -> Outcome:
    with local_stack(home, CONFIG) as stack:
        hirers = prepared(stack)
        configs = {h: MULTIPROCESS if n == 0 else {} for n, h in enumerate(hirers)}
        for hirer_id, (code, output) in materialize_all(configs).items():
            assert code == 0, f"{hirer_id}: exit {code}\n{output[-4000:]}"
            assert "RUN_SUCCESS" in output and not lock_failures(output), output[-4000:]
        assert stack.wait_for_fakes(60)
        with dg.DagsterInstance.get() as instance:
            check_instance(instance, hirers)
            settle(stack, hirers, instance)
        return Outcome(warehouse_rows(stack, ignore=ATS_IDS), stack.files_at_fakes())


def one_by_one(home: Path) -> Outcome:
    """The same hirers one after another (in process), each left to settle at the fakes."""
    with local_stack(home, CONFIG) as stack:
        hirers = prepared(stack)
        job = defs.resolve_job_def("hirer_sync")
        with dg.DagsterInstance.get() as instance:
            for hirer_id in hirers:
                result = job.execute_in_process(
                    instance=instance, partition_key=hirer_id, raise_on_error=False
                )
                assert result.success, hirer_id
                assert stack.wait_for_fakes(60)
            settle(stack, hirers, instance)
        return Outcome(warehouse_rows(stack, ignore=ATS_IDS), stack.files_at_fakes())


def test_four_hirers_at_once_succeed_and_match_one_by_one(tmp_path: Path) -> None:
    together = at_once(tmp_path / "at-once")
    alone = one_by_one(tmp_path / "one-by-one")
    assert together.sent == alone.sent
    assert together.sent["onderwijsregio"] > 0
    for table, rows in alone.rows.items():
        assert rows, f"{table} is empty"
        assert together.rows[table] == rows, table
