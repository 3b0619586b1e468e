"""Every pool a step uses is one the sensor's tick creates before runs claim it."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from seek_sync.definitions import defs
from seek_sync.pools import POOLS, ensure_pools
from tests.services import database_url, private_database

DEFAULT_LIMIT = {"concurrency": {"pools": {"default_limit": 2}}}


def test_the_pools_list_is_every_pool_of_the_jobs() -> None:
    used = {getattr(node, "pool", None) for job in defs.resolve_all_job_defs()
            for node in job.all_node_defs}  # fmt: skip
    assert used - {None} == set(POOLS)


def test_missing_pools_are_created_with_the_default_limit_once(tmp_path: Path) -> None:
    settings = {"concurrency": {"pools": {"default_limit": 2}}}
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=settings) as instance:
        assert ensure_pools(instance) == list(POOLS)
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert limits == dict.fromkeys(POOLS, 2)
        assert ensure_pools(instance) == []


def _ensure_in_turn(url: str, rounds: int, step: BarrierType, errors: Any) -> None:
    """A process's side of the race: each round, every process makes the missing pools at once;
    then the first process removes them again for the next round."""
    overrides = {"storage": {"postgres": {"postgres_url": url}}, **DEFAULT_LIMIT}
    with dg.instance_for_test(overrides=overrides) as instance:
        for _ in range(rounds):
            step.wait()
            try:
                ensure_pools(instance)
            except Exception as error:  # reported to the test, which names it
                errors.put(f"{type(error).__name__}: {str(error)[:200]}")
            if step.wait() == 0:
                for pool in POOLS:
                    instance.event_log_storage.delete_concurrency_limit(pool)
            step.wait()


@pytest.mark.timeout(120)
def test_processes_making_the_pools_at_once_all_go_on() -> None:
    """Two `sync --loop` workers' ticks on one PostgreSQL instance once failed here: the INSERT
    of the loser aborted its transaction and Dagster's fallback UPDATE failed the tick."""
    ctx = multiprocessing.get_context("spawn")
    rounds, errors, step = 6, ctx.Queue(), ctx.Barrier(3)
    with private_database() as name:
        url = database_url(name)
        with dg.instance_for_test(
            overrides={"storage": {"postgres": {"postgres_url": url}}, **DEFAULT_LIMIT}
        ) as instance:  # the schema, made once before the processes race
            assert instance.event_log_storage.get_pool_limits() == []
        workers = [
            ctx.Process(target=_ensure_in_turn, args=(url, rounds, step, errors)) for _ in range(3)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=100)
        assert [w.exitcode for w in workers] == [0, 0, 0]
        reported = [errors.get() for _ in range(errors.qsize())]
        assert reported == []
