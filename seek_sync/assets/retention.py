"""`apply_retention`: what is kept past its time removed (docs/personal-data.md), run daily.

Files whose upload was confirmed long enough ago lose their blob (the row stays, `expired`),
old applications and removed hirers are purged (audited, tombstoned), consumed inbox rows and
old finished Dagster runs go. Per hirer that lost something, one materialization of its
`attachment_files` partition says how much: ids and counts only, never a name, email or file name.
"""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import dagster as dg

from seek_sync.assets.checks import after_removal
from seek_sync.assets.dry_runs import DryRunConfig, mark_dry_run
from seek_sync.dead_runs import FINISHED, run_ended
from seek_sync.partitions import drop_hirer_partition, keys_of
from seek_sync.pipeline.retention import Limits, Removed, RetentionReport, apply_retention
from seek_sync.pipeline.stores import Stores
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.runstate.leases import leases_for

RUNS_PER_PASS = 5_000  # finished runs deleted at most per retention run (oldest first)


def removed_metadata(removed: Removed) -> dict[str, dg.MetadataValue]:
    return {
        "profiles_removed": dg.MetadataValue.int(removed.profiles_removed),
        "profiles_held": dg.MetadataValue.int(removed.profiles_held),
        "files_expired": dg.MetadataValue.int(removed.files_expired),
        "files_purged": dg.MetadataValue.int(removed.files_purged),
        "bytes_freed": dg.MetadataValue.int(removed.bytes_freed),
        "inbox_rows_removed": dg.MetadataValue.int(removed.inbox_rows_removed),
        "hirer_purged": dg.MetadataValue.bool(removed.hirer_purged),
    }


def trim_run_history(
    instance: dg.DagsterInstance, finished_before: datetime, *, current: str, dry_run: bool
) -> int:
    """Delete (or count) finished runs last updated before the cutoff, oldest first; never one
    in progress, never the current one. Returns how many."""
    records = instance.get_run_records(
        dg.RunsFilter(statuses=list(FINISHED), updated_before=finished_before),
        limit=RUNS_PER_PASS,
        order_by="update_timestamp",
        ascending=True,
    )
    old = [r.dagster_run.run_id for r in records if r.dagster_run.run_id != current]
    if not dry_run:
        for run_id in old:
            instance.delete_run(run_id)
    return len(old)


def _log(
    context: dg.OpExecutionContext,
    report: RetentionReport,
    purged: list[str],
    stores: Stores,
    seek_sync: SeekSyncResource,
) -> None:
    """Not in a dry run: per hirer purged whole, one materialization of its `attachment_files`
    partition saying so, then its partition dropped; per other hirer that lost something, its
    totals on every hirer asset, what retention removed on `attachment_files`."""
    if report.dry_run:
        return
    removed = {h: removed_metadata(r) for h, r in sorted(report.hirers.items()) if r.anything}
    for hirer_id in purged:
        context.log_event(
            dg.AssetMaterialization(
                asset_key="attachment_files",
                partition=keys_of(stores.inbox, [hirer_id])[hirer_id],
                description="retention",
                metadata=removed.get(hirer_id, {}),
            )
        )
        drop_hirer_partition(context.instance, stores.inbox, hirer_id)
    kept = [h for h in removed if h not in purged]
    after_removal(context, stores, kept, "retention", seek_sync, extra=removed)


@dg.op(tags={"kind": "seek-sync"})
def apply_retention_limits(
    context: dg.OpExecutionContext,
    config: DryRunConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dict[str, int]:
    """Remove what is past its retention limit: files, profiles, hirers, inbox rows, runs."""
    mark_dry_run(context, config.dry_run, "retention")
    settings = seek_sync.settings()
    stores = seek_sync.stores(warehouse.open(settings))
    targets = seek_sync.targets()
    kinds = {h: str(t.target) for h, t in targets.hirers.items()} if targets else {}
    now = datetime.now(UTC)
    report = apply_retention(
        stores,
        leases_for(settings, stores.inbox),
        Limits.of(settings),
        kinds,
        owner=context.run_id,
        dry_run=config.dry_run,
        now=now,
        ended=run_ended(context.instance),
    )
    runs = trim_run_history(
        context.instance,
        now - timedelta(days=settings.retention_run_history_days),
        current=context.run_id,
        dry_run=config.dry_run,
    )
    purged = [h for h, r in report.hirers.items() if r.hirer_purged and not report.dry_run]
    _log(context, report, purged, stores, seek_sync)
    totals = {**report.totals(), "runs_deleted": runs}
    per_hirer = {h: asdict(r) for h, r in sorted(report.hirers.items()) if r.anything}
    context.add_output_metadata(
        {
            **{name: dg.MetadataValue.int(value) for name, value in totals.items()},
            "dry_run": dg.MetadataValue.bool(report.dry_run),
            "hirers": dg.MetadataValue.int(len(per_hirer)),
            "per_hirer": dg.MetadataValue.json(per_hirer),
            "profiles_left_for_next_run": dg.MetadataValue.int(report.profiles_left),
            "hirers_skipped_held_by_a_run": dg.MetadataValue.json(report.skipped_hirers),
            "purge_ids": dg.MetadataValue.json(report.purge_ids),
        }
    )
    for hirer_id in report.skipped_hirers:
        context.log.info("hirer %s held by a live run: left for the next retention run", hirer_id)
    if report.errors:
        raise dg.Failure("; ".join(report.errors))
    return totals
