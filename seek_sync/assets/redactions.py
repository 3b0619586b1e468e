"""`seek_deletions`: SEEK's deletions of candidates and applications followed through to our
stores (and, with `SEEK_SYNC_ATS_DELETE_ON_SEEK_DELETION`, to the ATS); run on a schedule."""

import asyncio
from datetime import timedelta

import dagster as dg

from seek_sync.assets.checks import after_removal
from seek_sync.assets.dry_runs import DryRunConfig, mark_dry_run
from seek_sync.dead_runs import run_ended
from seek_sync.pipeline.clients import open_clients
from seek_sync.pipeline.purge import PurgeReport, purge
from seek_sync.pipeline.redactions import Recheck, recheck, withdraw
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.runstate.leases import leases_for
from seek_sync.store.purge import Selector

REASON = "SEEK deleted the application"


@dg.op(tags={"kind": "seek-sync"})
def follow_seek_deletions(
    context: dg.OpExecutionContext,
    config: DryRunConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dict[str, int]:
    """Re-read the least recently checked profiles; purge the ones SEEK has redacted."""
    mark_dry_run(context, config.dry_run, "following SEEK's deletions")
    settings = seek_sync.settings()
    stores = seek_sync.stores(warehouse.open(settings))

    async def check() -> Recheck:
        async with open_clients(settings, stores, seek_sync.targets()) as clients:
            found = await recheck(
                clients.seek,
                stores,
                limit=settings.redaction_recheck_per_run,
                every=timedelta(hours=settings.redaction_recheck_hours),
            )
            if found.redacted and settings.ats_delete_on_seek_deletion and not config.dry_run:
                await withdraw(clients.targets, stores, found.redacted, found)
            return found

    found = asyncio.run(check())
    report: PurgeReport | None = None
    if found.redacted:
        report = purge(
            stores,
            leases_for(settings, stores.inbox),
            Selector(profile_ids=tuple(found.redacted)),
            owner=context.run_id,
            reason=REASON,
            dry_run=config.dry_run,
            ended=run_ended(context.instance),
        )
        if not config.dry_run:
            why = f"{REASON} (purge {report.purge_id}): the hirer's totals after it"
            after_removal(context, stores, report.hirer_ids, why, seek_sync)
    counts = {
        "checked": found.checked,
        "not_read": found.errors,
        "deleted_at_seek": len(found.redacted),
        "ats_files_withdrawn": found.withdrawn,
    }
    context.add_output_metadata(
        {
            **counts,
            "purge_id": report.purge_id if report else "",
            "rows_removed": dg.MetadataValue.json(report.counts if report else {}),
            "ats_not_withdrawn": dg.MetadataValue.json(found.not_withdrawn),
        }
    )
    return counts
