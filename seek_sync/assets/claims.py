"""Every hirer-partitioned asset step first claims its hirers, as the batched runs do.

So a materialization launched from the UI (or a backfill) and a tick's run never work one hirer at
once: a hirer held by another live run fails the step with one clear line, and is owed as before.
The step also merges whatever a dead run journaled, before it reads the warehouse.
"""

import dagster as dg

from seek_sync.dead_runs import run_ended
from seek_sync.partitions import HIRER_TAG, hirer_tags, hirers_of
from seek_sync.pipeline.stores import Stores
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.runstate.leases import leases_for

# A backfill of N hirers launches ceil(N / this) runs (ranges of adjacent partitions).
HIRERS_PER_BACKFILL_RUN = 50
PARTITION_TAG = "dagster/partition"  # a run of one partition's
BACKFILL_POLICY = dg.BackfillPolicy.multi_run(HIRERS_PER_BACKFILL_RUN)


def claim_hirers(
    context: dg.AssetExecutionContext, seek_sync: SeekSyncResource, warehouse: WarehouseResource
) -> tuple[list[str], Stores]:
    """The step's hirers (one, or a range in a backfill), claimed; and the stores, merged."""
    settings = seek_sync.settings()
    stores = seek_sync.stores(warehouse.open(settings))
    keys = list(context.partition_keys)
    hirer_ids = list(hirers_of(stores.inbox, keys).values())
    leases = leases_for(settings, stores.inbox)
    claimed = leases.claim_run(hirer_ids, context.run.run_id, ended=run_ended(context.instance))
    held = [h for h in hirer_ids if h not in set(claimed)]
    if held:
        raise dg.Failure(
            description=f"{len(held)} hirer(s) are being synced by another live run; "
            "they stay owed and the next tick takes them",
            metadata={"held": dg.MetadataValue.json(held)},
        )
    stores.merge()
    tags = hirer_tags(keys)
    if HIRER_TAG in tags and context.run.tags.get(PARTITION_TAG) == tags[HIRER_TAG]:
        del tags[HIRER_TAG]  # the runs list shows `dagster/partition` already
    if any(context.run.tags.get(k) != v for k, v in tags.items()):  # a run launched from the UI
        context.instance.add_run_tags(context.run.run_id, tags)
    return hirer_ids, stores
