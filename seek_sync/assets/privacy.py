"""Personal data on request: `purge_data` removes a hirer's, a candidate's or an email's data
everywhere seek-sync keeps it; `export_data` writes everything held about them to one archive.

Both are run steps (only run steps open the warehouse); a purge is serialised with the hirers'
runs through their leases. The email of a request never enters run config (Dagster would keep it
in its run storage): the CLI hands it to the op in memory under a one-time token.
"""

import secrets
from pathlib import Path

import dagster as dg

from seek_sync.dead_runs import run_ended
from seek_sync.partitions import drop_hirer_partition
from seek_sync.pipeline.purge import PurgeReport, purge
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


class SelectionConfig(dg.Config):
    hirer_id: str = ""  # everything of one hirer; with a candidate or email: only within it
    candidate_id: str = ""  # SEEK's candidate id (candidate_profiles.candidate_id)
    email_token: str = ""  # from `hand_over_email` (CLI only): every candidate with that email

    def selector(self) -> Selector:
        email = _EMAILS.pop(self.email_token, None) if self.email_token else None
        if self.email_token and email is None:
            raise dg.Failure("a request by email runs from the `seek-sync` CLI (one process)")
        return Selector(
            hirer_id=self.hirer_id or None, candidate_id=self.candidate_id or None, email=email
        )


class PurgeConfig(SelectionConfig):
    reason: str = ""  # kept in the audit table (say why, without personal data)
    dry_run: bool = False


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
    selector = config.selector()
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
        drop_hirer_partition(context.instance, report.hirer_ids[0])
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
    selector = config.selector()
    settings = seek_sync.settings()
    stores = seek_sync.stores(warehouse.open(settings))
    with stores.warehouse.session() as db:
        counts = export(db, stores.blobs, selector, Path(config.out))
    context.add_output_metadata({"kind": selector.kind, **counts})
    return counts
