"""Every pool a step uses is one the sensor's tick creates before runs claim it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from seek_sync.definitions import defs
from seek_sync.pools import POOLS, ensure_pools


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
