"""The ATS side of a hirer: its applicants resolved in the hirer's ATS, and the files pushed."""

import asyncio
from collections.abc import Iterator

import dagster as dg

from seek_sync.assets.files import attachment_files
from seek_sync.assets.metadata import report_metadata
from seek_sync.partitions import hirer_partitions
from seek_sync.pipeline.ats_push import sync_ats
from seek_sync.pipeline.report import StageReport
from seek_sync.resources import SeekSyncResource, WarehouseResource


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "ats_candidates",
            deps=[attachment_files],
            description="Each applicant's candidate or application in the hirer's ATS.",
            partitions_def=hirer_partitions,
            group_name="ats",
            kinds={"duckdb"},
        ),
        dg.AssetSpec(
            "ats_uploads",
            deps=["ats_candidates"],
            description="Each stored file pushed once to the hirer's ATS, with its outcome.",
            partitions_def=hirer_partitions,
            group_name="ats",
            kinds={"duckdb"},
        ),
    ],
    pool="ats_api",
)
def ats_push(
    context: dg.AssetExecutionContext, seek_sync: SeekSyncResource, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """Resolve applicants in the hirer's ATS, push unsettled files, apply callbacks."""
    hirer_id = context.partition_key
    store = warehouse.open(seek_sync.settings())

    async def run() -> tuple[StageReport, StageReport] | None:
        async with seek_sync.target(hirer_id) as target:
            if target is None:
                return None
            return await sync_ats(target, store, seek_sync.inbox(), seek_sync.blobs(), hirer_id)

    reports = asyncio.run(run())
    if reports is None:
        context.log.warning("hirer %s has no ATS target in the hirer map: nothing pushed", hirer_id)
        unmapped = StageReport("ats", hirer_id, notes=["no ATS target in the hirer map"])
        reports = (unmapped, unmapped)
    endpoints = seek_sync.endpoints()
    for key, report in zip(("ats_candidates", "ats_uploads"), reports, strict=True):
        yield dg.MaterializeResult(asset_key=key, metadata=report_metadata(report, endpoints))
