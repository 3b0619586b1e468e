"""The SEEK side of each hirer: its events, candidate profiles and attachment manifest."""

import dagster as dg

from seek_sync.assets.catalog import dataset
from seek_sync.assets.claims import BACKFILL_POLICY, claim_hirers
from seek_sync.assets.reporting import record, result
from seek_sync.partitions import hirer_partitions
from seek_sync.pipeline.events import sync_events
from seek_sync.pipeline.hirers import sync_hirers
from seek_sync.pipeline.profiles import sync_manifest, sync_profiles
from seek_sync.pipeline.report import StageReport
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.seek.client import SeekClient


class EventsConfig(dg.Config):
    upto_seq: int | None = None  # the highest inbox seq to move; None: everything recorded


class ProfilesConfig(dg.Config):
    refetch_settled: bool = False  # also re-fetch profiles SEEK answered not_found or forbidden


@dg.asset(
    group_name="seek",
    pool="seek_api",
    kinds={"duckdb"},
    **dataset("hirers"),
)
def hirers(seek_sync: SeekSyncResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every SEEK hirer seen in the inbox, with its relationship state and ATS target."""
    inbox, targets = seek_sync.inbox(), seek_sync.targets()
    store = warehouse.open(seek_sync.settings())
    report = seek_sync.with_seek(lambda client: sync_hirers(client, inbox, store, targets))
    return result(report, seek_sync.endpoints())


@dg.asset(
    group_name="seek",
    partitions_def=hirer_partitions,
    backfill_policy=BACKFILL_POLICY,
    deps=[hirers],
    kinds={"sqlite", "duckdb"},
    **dataset("application_events"),
)
def application_events(
    context: dg.AssetExecutionContext,
    config: EventsConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """The hirer's recorded SEEK events (polled and webhook), moved from the inbox."""
    hirer_ids, stores = claim_hirers(context, seek_sync, warehouse)
    upto = dict.fromkeys(hirer_ids, config.upto_seq) if config.upto_seq is not None else None
    reports = sync_events(stores.inbox, stores.warehouse, hirer_ids, upto=upto)
    return record(context, reports.values(), stores, seek_sync.endpoints())


@dg.asset(
    group_name="seek",
    partitions_def=hirer_partitions,
    backfill_policy=BACKFILL_POLICY,
    deps=[application_events],
    pool="seek_api",
    kinds={"graphql", "duckdb"},
    **dataset("candidate_profiles"),
)
def candidate_profiles(
    context: dg.AssetExecutionContext,
    config: ProfilesConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Each application's candidate profile from SEEK's GraphQL API: typed columns plus JSON."""
    hirer_ids, stores = claim_hirers(context, seek_sync, warehouse)

    async def fetch(client: SeekClient) -> dict[str, StageReport]:
        return await sync_profiles(client, stores, hirer_ids, retry_settled=config.refetch_settled)

    reports = seek_sync.with_seek(fetch)
    return record(context, reports.values(), stores, seek_sync.endpoints())


@dg.asset(
    group_name="seek",
    partitions_def=hirer_partitions,
    backfill_policy=BACKFILL_POLICY,
    deps=[candidate_profiles],
    kinds={"duckdb"},
    **dataset("attachment_manifest"),
)
def attachment_manifest(
    context: dg.AssetExecutionContext, seek_sync: SeekSyncResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """One row per attachment of each stored profile: role, URL and descriptions."""
    hirer_ids, stores = claim_hirers(context, seek_sync, warehouse)
    reports = sync_manifest(stores.warehouse, hirer_ids)
    return record(context, reports.values(), stores, seek_sync.endpoints())
