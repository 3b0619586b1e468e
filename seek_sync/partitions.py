"""The one partitioning of seek-sync: by SEEK hirer, added by the sensor as hirers appear.

A partition's key is the hirer's key (`blue-gum-7Qe4`: `seek_sync/runstate/hirer_keys.py`),
short enough for the Dagster UI's lists at 1,600 px; everything else (the warehouse, the inbox,
leases, run config) keeps SEEK's hirer id. `keys_of` and `hirers_of` turn one into the other.
"""

from collections.abc import Iterable, Sequence

import dagster as dg

from seek_sync.pipeline.hirers import hirer_names
from seek_sync.runstate.hirer_keys import HirerKeys, UnknownHirerKeyError
from seek_sync.runstate.inbox import Inbox

hirer_partitions = dg.DynamicPartitionsDefinition(name="hirer")


def keys_of(inbox: Inbox, hirer_ids: Iterable[str]) -> dict[str, str]:
    """Hirer id -> its partition key (an earlier release's partition: the id itself)."""
    return HirerKeys(inbox).keys_of(hirer_ids)


def hirers_of(inbox: Inbox, keys: Iterable[str]) -> dict[str, str]:
    """Partition key -> its hirer id, in the keys' order; a key no hirer has fails the step with
    one line naming it."""
    try:
        return HirerKeys(inbox).hirers_of(keys)
    except UnknownHirerKeyError as error:
        raise dg.Failure(description=str(error)) from None


def drop_hirer_partition(instance: dg.DagsterInstance, inbox: Inbox, hirer_id: str) -> None:
    """A purged hirer's partition goes with its data; it comes back (under the same key) only if
    SEEK sends new events for the hirer."""
    key = keys_of(inbox, [hirer_id])[hirer_id]
    if instance.has_dynamic_partition(hirer_partitions.name, key):
        instance.delete_dynamic_partition(hirer_partitions.name, key)


HIRERS_TAG, HIRER_TAG = "seek_sync/hirers", "seek_sync/hirer"


def hirer_tags(keys: Sequence[str]) -> dict[str, str]:
    """A run's hirers as tags: how many and, for a run of one hirer, its key. The runs list
    shows every tag of ours whole or cut at its column (275 px at 1,600 px): one key fits, a
    list of several does not (a batched run's hirers are in its config and materializations)."""
    tags = {HIRERS_TAG: str(len(keys))}
    if len(keys) == 1:
        tags[HIRER_TAG] = keys[0]
    return tags


def recreate_hirer_partitions(
    instance: dg.DagsterInstance, inbox: Inbox, hirer_ids: Sequence[str]
) -> tuple[int, int]:
    """The hirers' partitions in `instance` (a new one, after `seek-sync migrate`), under the keys
    the inbox holds for them (made now, from the names it holds, for a home of an earlier
    release): returns how many were added and how many were there already."""
    names = hirer_names(inbox)
    keys = HirerKeys(inbox).assign({h: names.get(h) for h in hirer_ids})
    have = set(instance.get_dynamic_partitions(hirer_partitions.name))
    missing = [keys[h] for h in hirer_ids if keys[h] not in have]
    if missing:
        instance.add_dynamic_partitions(hirer_partitions.name, missing)
    return len(missing), len(hirer_ids) - len(missing)


def latest_materializations(
    instance: dg.DagsterInstance, asset: dg.AssetKey, keys: Sequence[str]
) -> dict[str, dg.EventLogRecord]:
    """Partition key -> its latest materialization's record (two queries for all of them)."""
    latest = instance.event_log_storage.get_latest_storage_id_by_partition(
        asset, dg.DagsterEventType.ASSET_MATERIALIZATION, set(keys)
    )
    if not latest:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset, storage_ids=list(latest.values())),
        limit=len(latest),
    ).records
    by_id = {r.storage_id: r for r in records}
    return {key: by_id[i] for key, i in latest.items() if i in by_id}
