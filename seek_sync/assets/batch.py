"""`sync_hirers`: one run syncs many hirers; each hirer with work gets its own materializations.

The tick hands a run a list of hirers. The op passes them to `HirerRunner` (claims, several hirers
at once, per-run cap, ledger) and logs, per hirer and per stage that changed something, a
materialization of that hirer's partition of the stage's asset, with the stage's own metadata
(`assets/reporting.py`), then the checks of the hirers it passed over (`assets/checks.py`).
"""

import asyncio
from datetime import UTC, datetime, timedelta

import dagster as dg

from seek_sync.assets.checks import evaluate_passes
from seek_sync.assets.reporting import record_passes
from seek_sync.dead_runs import run_ended
from seek_sync.pipeline.checks import FAILING_AFTER
from seek_sync.pipeline.hirer_run import HirerPass, HirerRunner
from seek_sync.resources import SeekSyncResource, WarehouseResource


class SyncHirersConfig(dg.Config):
    hirers: list[str]  # the hirer ids this run covers (at most `hirers_per_run`)
    reserved_as: str = ""  # the tick's reservation of them (its run key)


@dg.op(pool="hirer_sync", tags={"kind": "seek-sync"})
def sync_hirers(
    context: dg.OpExecutionContext,
    config: SyncHirersConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> None:
    """Every stage of each of the run's hirers: events, profiles, files, ATS; several at once."""
    settings, started = seek_sync.settings(), datetime.now(UTC)
    stores = seek_sync.stores(warehouse.open(settings))
    ended = run_ended(context.instance)

    async def run() -> tuple[list[HirerPass], list[str]]:
        async with HirerRunner.open(settings, stores, seek_sync.targets()) as runner:
            return await runner.sync_hirers(
                config.hirers, context.run_id, reserved_as=config.reserved_as, ended=ended
            )

    passes, skipped = asyncio.run(run())
    record_passes(context, passes, stores, seek_sync.endpoints())
    warn_after = timedelta(hours=settings.unsettled_upload_warn_hours)
    for evaluation in evaluate_passes(
        context.instance, stores, passes, since=started, warn_after=warn_after
    ):
        context.log_event(evaluation)
    failing = sorted(p.hirer_id for p in passes if p.work and p.work.failures >= FAILING_AFTER)
    failed = sorted(p.hirer_id for p in passes if p.error)
    context.add_output_metadata(
        {
            "hirers": dg.MetadataValue.int(len(passes)),
            "hirers_with_changes": dg.MetadataValue.int(sum(p.changed for p in passes)),
            "held_by_another_run": dg.MetadataValue.json(skipped),
            "failed": dg.MetadataValue.json(failed),
            "failing": dg.MetadataValue.json(failing),
        }
    )
    if failing:
        context.instance.add_run_tags(
            context.run_id, {"seek_sync/failing_hirers": str(len(failing))}
        )
    if failed:
        raise dg.Failure(
            description=f"{len(failed)} of {len(passes)} hirer(s) failed and stay owed",
            metadata={"failed": dg.MetadataValue.json(failed)},
        )
