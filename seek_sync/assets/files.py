"""The files of a hirer: each attachment streamed into the blob store under the hirer's prefix."""

import dagster as dg

from seek_sync.assets.metadata import result
from seek_sync.assets.seek import attachment_manifest
from seek_sync.partitions import hirer_partitions
from seek_sync.pipeline.files import sync_files
from seek_sync.resources import SeekSyncResource, WarehouseResource


class FilesConfig(dg.Config):
    retry_missing: bool = False  # also retry files SEEK answered 404 for (the nightly reconcile)


@dg.asset(
    group_name="files",
    partitions_def=hirer_partitions,
    deps=[attachment_manifest],
    pool="seek_api",
    kinds={"duckdb", "filesystem"},
)
def attachment_files(
    context: dg.AssetExecutionContext,
    config: FilesConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Each attachment downloaded and hashed while streaming, stored content-addressed."""
    store, blobs = warehouse.open(seek_sync.settings()), seek_sync.blobs()
    report = seek_sync.with_seek(
        lambda client: sync_files(
            client, blobs, store, context.partition_key, retry_missing=config.retry_missing
        )
    )
    return result(report, seek_sync.endpoints())
