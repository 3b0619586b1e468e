"""Hirer partitions of an earlier release, renamed in place to hirer keys by the tick.

Releases before hirer keys named each partition by the SEEK hirer id. Each tick (the daemon's
sensor, or `seek-sync sync`, `dev`, `demo`) renames up to `PER_TICK` of them: the hirer gets its
key (`KeyMaker`: from the name the inbox holds, or SEEK's), the key's partition is added, each
hirer asset's latest materialization of the old partition is recorded again under the new one
(same metadata, described as renamed) unless the new one has its own already, and the old
partition is deleted. Nothing else is keyed by partition: the warehouse, the inbox, leases and
run config keep SEEK's hirer ids. What stays under the old key in the event log: earlier
materializations and check results (a renamed hirer's checks show again from its next run,
the nightly reconcile at the latest) and the tags of earlier runs.
"""

from __future__ import annotations

import logging

import dagster as dg

from seek_sync.ids import is_hirer_id
from seek_sync.partitions import hirer_partitions, latest_materializations
from seek_sync.pipeline.naming import KeyMaker
from seek_sync.pipeline.totals import STATE_OF

PER_TICK = 500  # partitions renamed per tick (a few seconds); the rest on the next ones
HIRER_ASSETS = tuple(STATE_OF)  # every asset partitioned by hirer


def rename_old_partitions(
    instance: dg.DagsterInstance, maker: KeyMaker, log: logging.Logger
) -> dict[str, str]:
    """Rename up to `PER_TICK` partitions keyed by a SEEK hirer id; returns old -> new key."""
    name = hirer_partitions.name
    old = [k for k in instance.get_dynamic_partitions(name) if is_hirer_id(k)][:PER_TICK]
    if not old:
        return {}
    waiting = maker.unready(old)
    renamed = {h: maker.keys[h] for h in old if h not in waiting}
    if not renamed:
        return {}
    have = set(instance.get_dynamic_partitions(name))
    new = [k for k in renamed.values() if k not in have]
    if new:
        instance.add_dynamic_partitions(name, new)
    for asset in HIRER_ASSETS:
        _carry_latest(instance, dg.AssetKey(asset), renamed)
    for old_key in renamed:
        instance.delete_dynamic_partition(name, old_key)
    log.info("renamed %d hirer partition(s) of an earlier release to hirer keys", len(renamed))
    return renamed


def _carry_latest(
    instance: dg.DagsterInstance, asset: dg.AssetKey, renamed: dict[str, str]
) -> None:
    """The old partitions' latest materializations of `asset`, under their new keys."""
    before = latest_materializations(instance, asset, list(renamed))
    already = latest_materializations(instance, asset, [renamed[k] for k in before])
    for old_key, record in before.items():
        materialization = record.asset_materialization
        if materialization is None or renamed[old_key] in already:
            continue
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=asset,
                partition=renamed[old_key],
                description=f"renamed from partition {old_key} (an earlier release's key)",
                metadata=dict(materialization.metadata),
            )
        )
