"""The files of each hirer: each attachment streamed into the blob store under its prefix."""

import dagster as dg

from seek_sync.assets.catalog import dataset
from seek_sync.assets.claims import BACKFILL_POLICY, claim_hirers
from seek_sync.assets.reporting import record
from seek_sync.assets.seek import attachment_manifest
from seek_sync.partitions import hirer_partitions
from seek_sync.pipeline.files import sync_files
from seek_sync.pipeline.report import StageReport
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.seek.client import SeekClient


class FilesConfig(dg.Config):
    retry_missing: bool = False  # also retry files SEEK answered 404 for (the nightly reconcile)


@dg.asset(
    group_name="files",
    partitions_def=hirer_partitions,
    backfill_policy=BACKFILL_POLICY,
    deps=[attachment_manifest],
    pool="seek_api",
    kinds={"duckdb", "filesystem"},
    **dataset("attachment_files"),
)
def attachment_files(
    context: dg.AssetExecutionContext,
    config: FilesConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Each attachment downloaded and hashed while streaming, stored content-addressed."""
    hirer_ids, stores = claim_hirers(context, seek_sync, warehouse)

    async def fetch(client: SeekClient) -> dict[str, StageReport]:
        return await sync_files(client, stores, hirer_ids, retry_missing=config.retry_missing)

    reports = seek_sync.with_seek(fetch)
    return record(context, reports.values(), stores, seek_sync.endpoints())
