"""`sync_hirers`: one run syncs many hirers; each hirer with work gets its own materializations.

The tick hands a run a list of hirers. The op passes them to `HirerRunner` (claims, several hirers
at once, per-run cap, ledger) and logs, per hirer and per stage that changed something, a
materialization of that hirer's partition of the stage's asset, with the stage's own metadata.
"""

import asyncio
from datetime import UTC, datetime

import dagster as dg

from seek_sync.assets.checks import evaluations
from seek_sync.assets.metadata import log_reasons, report_metadata
from seek_sync.dead_runs import run_ended
from seek_sync.pipeline.checks import FAILING_AFTER
from seek_sync.pipeline.hirer_run import HirerPass, HirerRunner
from seek_sync.pipeline.totals import describe
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.runstate.ledger import HirerWork


class SyncHirersConfig(dg.Config):
    hirers: list[str]  # the hirer ids this run covers (at most `hirers_per_run`)
    reserved_as: str = ""  # the tick's reservation of them (its run key)


def ledger_metadata(work: HirerWork | None) -> dict[str, dg.MetadataValue]:
    if work is None:
        return {}
    due = datetime.fromtimestamp(work.due_at, UTC).isoformat() if work.due_at else "nothing owed"
    return {
        "owed": dg.MetadataValue.json(work.owed),
        "next_due": dg.MetadataValue.text(due),
        "consecutive_failures": dg.MetadataValue.int(work.failures),
    }


def _log_pass(context: dg.OpExecutionContext, done: HirerPass, endpoints: str) -> None:
    """A materialization of each stage the pass changed (with the hirer's totals, filled by
    `describe`); an unchanged stage's latest materialization still tells its totals."""
    extra = ledger_metadata(done.work)
    for report in done.reports:
        if report.changed:
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=report.stage,
                    partition=done.hirer_id,
                    metadata=report_metadata(report, endpoints) | extra,
                )
            )
    for report in done.reports:
        log_reasons(context.log, report)
    if done.error:
        context.log.warning("hirer %s failed and stays owed: %s", done.hirer_id, done.error)


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
    endpoints = seek_sync.endpoints()
    describe(stores, [r for done in passes for r in done.reports if r.changed])
    for done in passes:
        _log_pass(context, done, endpoints)
    warn_after = settings.unsettled_upload_warn_hours
    checked = evaluations(
        context.instance, stores, passes, since=started, warn_after_hours=warn_after
    )
    for evaluation in checked:
        context.log_event(evaluation)
    failing = sorted(d.hirer_id for d in passes if d.work and d.work.failures >= FAILING_AFTER)
    failed = sorted(d.hirer_id for d in passes if d.error)
    context.add_output_metadata(
        {
            "hirers": dg.MetadataValue.int(len(passes)),
            "hirers_with_changes": dg.MetadataValue.int(sum(d.changed for d in passes)),
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
