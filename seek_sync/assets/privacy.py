"""Personal data on request: `purge_data` removes a hirer's, a candidate's or an email's data
everywhere seek-sync keeps it; `export_data` writes everything held about them to one archive;
`reapply_tombstones` purges again, after a restore, what the tombstones say was erased.

Both are run steps (only run steps open the warehouse); a purge is serialised with the hirers'
runs through their leases. The email of a request never enters run config (Dagster would keep it
in its run storage): the CLI hands it to the op in memory under a one-time token.
"""

import secrets
from pathlib import Path

import dagster as dg

from seek_sync.assets.checks import after_removal
from seek_sync.assets.dry_runs import NOTE_TAG, DryRunConfig, mark_dry_run
from seek_sync.dead_runs import run_ended
from seek_sync.partitions import drop_hirer_partition
from seek_sync.pipeline.purge import PurgeReport, purge
from seek_sync.pipeline.reapply import ReapplyReport, reapply
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.runstate.leases import leases_for
from seek_sync.store.export import export
from seek_sync.store.purge import Selector

_EMAILS: dict[str, str] = {}  # one-time token -> email, filled by the CLI in this process


def hand_over_email(email: str) -> str:
    """Keep `email` in memory for the op; returns the token to put in its config."""
    token = secrets.token_hex(16)
    _EMAILS[token] = email
    return token


NOT_REPEATABLE = (
    "a request by email runs only from the `seek-sync` CLI: the email lived in that process and "
    "no run keeps it, so this run cannot be re-executed; run the CLI command again"
)


class SelectionConfig(dg.Config):
    hirer_id: str = ""  # everything of one hirer; with a candidate or email: only within it
    candidate_id: str = ""  # SEEK's candidate id (candidate_profiles.candidate_id)
    email_token: str = ""  # from `hand_over_email` (CLI only): every candidate with that email

    def selector(self, context: dg.OpExecutionContext) -> Selector | None:
        """The selection; None (the run says why) for an email this process was not handed,
        as in a re-execution of an email request from the UI."""
        email = _EMAILS.pop(self.email_token, None) if self.email_token else None
        if self.email_token and email is None:
            context.instance.add_run_tags(context.run_id, {NOTE_TAG: NOT_REPEATABLE})
            context.log.info(NOT_REPEATABLE)
            context.add_output_metadata({"not_run": NOT_REPEATABLE})
            return None
        return Selector(
            hirer_id=self.hirer_id or None, candidate_id=self.candidate_id or None, email=email
        )


class PurgeConfig(SelectionConfig, DryRunConfig):
    reason: str = ""  # kept in the audit table (say why, without personal data)


class ExportConfig(SelectionConfig):
    out: str  # where the archive is written


@dg.op(tags={"kind": "seek-sync"})
def purge_data(
    context: dg.OpExecutionContext,
    config: PurgeConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> PurgeReport:
    """Remove the selected data from the warehouse, inbox and blob store, and leave tombstones."""
    selector = config.selector(context)
    if selector is None:
        return PurgeReport("", "email", config.dry_run, [], 0, 0)
    mark_dry_run(context, config.dry_run, f"a purge by {selector.kind}")
    settings = seek_sync.settings()
    stores = seek_sync.stores(warehouse.open(settings))
    report = purge(
        stores,
        leases_for(settings, stores.inbox),
        selector,
        owner=context.run_id,
        reason=config.reason or None,
        dry_run=config.dry_run,
        ended=run_ended(context.instance),
    )
    if report.kind == "hirer" and not report.dry_run:
        drop_hirer_partition(context.instance, stores.inbox, report.hirer_ids[0])
    if not report.dry_run:
        why = f"purge {report.purge_id}: the hirer's totals after it"
        after_removal(context, stores, report.hirer_ids, why, seek_sync)
    context.add_output_metadata(
        {
            "purge_id": report.purge_id,
            "kind": report.kind,
            "dry_run": report.dry_run,
            "hirers": len(report.hirer_ids),
            "candidates": report.candidates,
            "profiles": report.profiles,
            "rows": dg.MetadataValue.json(report.counts),
            "blob_bytes": report.blob_bytes,
        }
    )
    return report


@dg.op(tags={"kind": "seek-sync"})
def export_data(
    context: dg.OpExecutionContext,
    config: ExportConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dict[str, int]:
    """Write everything held about the selected person (profiles, files, ATS state, audit)."""
    selector = config.selector(context)
    if selector is None:
        return {}
    settings = seek_sync.settings()
    stores = seek_sync.stores(warehouse.open(settings))
    with stores.warehouse.session() as db:
        counts = export(db, stores.blobs, selector, Path(config.out))
    context.add_output_metadata({"kind": selector.kind, **counts})
    return counts


@dg.op(tags={"kind": "seek-sync"})
def reapply_purges(
    context: dg.OpExecutionContext,
    config: DryRunConfig,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> ReapplyReport:
    """Every purge tombstone applied again to the current state (after a restore): what a
    tombstone covers is removed everywhere, with an audit row per purge."""
    mark_dry_run(context, config.dry_run, "re-applying the purge tombstones")
    settings = seek_sync.settings()
    stores = seek_sync.stores(warehouse.open(settings))
    report = reapply(
        stores,
        leases_for(settings, stores.inbox),
        owner=context.run_id,
        dry_run=config.dry_run,
        ended=run_ended(context.instance),
    )
    if not report.dry_run:
        for hirer_id in report.hirers:
            drop_hirer_partition(context.instance, hirer_id)
        why = "tombstones re-applied: the hirer's totals after it"
        after_removal(context, stores, report.touched, why, seek_sync)
    context.add_output_metadata(
        {
            "tombstones": report.tombstones,
            "purges": dg.MetadataValue.json(report.purge_ids),
            "hirers_purged": len(report.hirers),
            "candidates_purged": report.candidates,
            "profiles_purged": report.profiles,
            "inbox_events_removed": report.inbox_events,
            "blob_bytes": report.blob_bytes,
        }
    )
    return report
