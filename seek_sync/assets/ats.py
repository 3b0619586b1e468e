"""The ATS side of each hirer: its applicants resolved in the hirer's ATS, and the files pushed."""

import asyncio
from collections.abc import Iterator

import dagster as dg

from seek_sync.assets.catalog import dataset
from seek_sync.assets.claims import BACKFILL_POLICY, claim_hirers
from seek_sync.assets.files import attachment_files
from seek_sync.assets.reporting import record
from seek_sync.partitions import hirer_partitions
from seek_sync.pipeline.ats_push import sync_ats
from seek_sync.pipeline.clients import open_clients
from seek_sync.pipeline.report import StageReport
from seek_sync.resources import SeekSyncResource, WarehouseResource


class AtsConfig(dg.Config):
    # Read back every accepted upload, not only those past the confirm wait (the nightly
    # reconcile); an upload is still sent again only once its wait has passed.
    read_back_all: bool = False


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "ats_candidates",
            deps=[attachment_files],
            description="Each applicant's candidate or application in the hirer's ATS.",
            partitions_def=hirer_partitions,
            group_name="ats",
            kinds={"duckdb"},
            **dataset("ats_candidates"),
        ),
        dg.AssetSpec(
            "ats_uploads",
            deps=["ats_candidates"],
            description="Each stored file pushed once to the hirer's ATS, with its outcome.",
            partitions_def=hirer_partitions,
            group_name="ats",
            kinds={"duckdb"},
            **dataset("ats_uploads"),
        ),
    ],
    backfill_policy=BACKFILL_POLICY,
    pool="ats_api",
)
def ats_push(
    context: dg.AssetExecutionContext,
    config: AtsConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult]:
    """Resolve applicants in the hirer's ATS, push unsettled files, apply callbacks."""
    hirer_ids, stores = claim_hirers(context, seek_sync, warehouse)
    settings = seek_sync.settings()

    async def push() -> tuple[dict[str, tuple[StageReport, StageReport]], dict[str, str]]:
        async with open_clients(settings, stores, seek_sync.targets()) as clients:
            targets = clients.targets.for_hirers(hirer_ids)
            return await sync_ats(
                targets,
                stores,
                read_back_all=config.read_back_all,
                on_demand=clients.on_demand,
                callback_wait=settings.ats_callback_wait_seconds,
            )

    pushed, errors = asyncio.run(push())
    for hirer_id in sorted(set(hirer_ids) - set(pushed)):
        context.log.warning("hirer %s has no ATS target: nothing pushed", hirer_id)
    endpoints = seek_sync.endpoints()
    for index, key in enumerate(("ats_candidates", "ats_uploads")):
        yield record(context, [pair[index] for pair in pushed.values()], stores, endpoints, key)
    if errors:
        raise dg.Failure(
            description=f"the ATS push failed for {len(errors)} hirer(s)",
            metadata={"failed": dg.MetadataValue.json(sorted(errors))},
        )
