"""The concurrency pools of seek-sync's steps, made known to the instance before any run claims.

Dagster creates a pool's limit row (from `concurrency.pools.default_limit`) at the first claim of
that pool. On PostgreSQL two runs making that first claim at once (two Celery workers, say) race:
the loser's INSERT fails on the unique key, which aborts its transaction, and Dagster's fallback
UPDATE in the same transaction then fails the run (`InFailedSqlTransaction`; dagster 1.13.27,
upstream issue dagster-io/dagster#33552, open; tests/cluster found it). The sensor's tick
creates each missing row first, so runs only ever find it. Ticks of two processes (two
`sync --loop` workers) race the same way: the one that loses finds the row made and goes on.
"""

from __future__ import annotations

import dagster as dg
from sqlalchemy.exc import DBAPIError

POOLS = ("hirer_sync", "seek_api", "ats_api")  # every `pool=` of the jobs (tests/test_pools.py)


def ensure_pools(instance: dg.DagsterInstance) -> list[str]:
    """Create the limit row of every pool that has none yet (with the default limit); returns
    those it created. Nothing to do without a default limit or without pool support."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    if storage.get_pool_config().default_pool_limit is None:
        return []
    known = {limit.name for limit in storage.get_pool_limits()}
    missing = [pool for pool in POOLS if pool not in known]
    made = []
    for pool in missing:
        try:
            storage.initialize_concurrency_limit_to_default(pool)
        except DBAPIError:  # another process made the row first (the race above)
            if pool not in {limit.name for limit in storage.get_pool_limits()}:
                raise
            continue
        made.append(pool)
    return made
