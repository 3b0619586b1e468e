"""What Dagster shows of a pass, the same for an asset step and for the batched op.

A stage's report becomes its hirer's materialization metadata (counts, states, an id-only preview):
an asset step attaches it to the partition it materializes (`record`); the batched op, which
materializes no asset of its own, logs a materialization per hirer and stage it changed
(`record_passes`); after a removal, each affected hirer's totals (`record_totals`). Every one is
logged under the hirer's partition key. A check's outcomes: `assets/check_reporting.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from rich.filesize import decimal

from seek_sync.ids import hirer_label
from seek_sync.partitions import hirer_partitions, hirers_of, keys_of
from seek_sync.pipeline.hirer_run import HirerPass
from seek_sync.pipeline.refusals import final_refusal
from seek_sync.pipeline.report import StageReport
from seek_sync.pipeline.stores import Stores
from seek_sync.pipeline.totals import STATE_OF, describe
from seek_sync.runstate.ledger import HirerWork

# --- a stage's report ------------------------------------------------------------------------


def report_metadata(report: StageReport, endpoints: str) -> dict[str, dg.MetadataValue]:
    """What the pass changed, and (with totals) where the hirer stands: its rows, rows per state
    and bytes stored, so the latest materialization says something even when nothing changed."""
    totals = report.totals
    states = totals.states if totals is not None else dict(report.states)
    metadata: dict[str, dg.MetadataValue] = {}
    if report.hirer_id != "*":
        metadata["hirer"] = dg.MetadataValue.text(hirer_label(report.hirer_id, report.hirer_name))
    if totals is not None:
        metadata["dagster/row_count"] = dg.MetadataValue.int(totals.rows)
    metadata |= {
        "rows_new": dg.MetadataValue.int(report.new),
        "rows_updated": dg.MetadataValue.int(report.updated),
        "rows_unchanged": dg.MetadataValue.int(report.unchanged),
        "by_state": dg.MetadataValue.json(dict(sorted(states.items()))),
        "this_pass_by_state": dg.MetadataValue.json(dict(sorted(report.states.items()))),
        "preview": dg.MetadataValue.md(_preview(report)),
        "endpoints": dg.MetadataValue.text(endpoints),
    }
    if report.attachments:
        metadata["attachments"] = dg.MetadataValue.text(report.attachments)
    if report.stage == "attachment_files":
        metadata["bytes_downloaded"] = dg.MetadataValue.int(report.bytes)
        metadata["size_downloaded"] = dg.MetadataValue.text(decimal(report.bytes))
    if totals is not None and totals.bytes is not None:
        metadata["bytes_stored"] = dg.MetadataValue.int(totals.bytes)
        metadata["size_stored"] = dg.MetadataValue.text(decimal(totals.bytes))
    for state, count in sorted(states.items()):
        metadata[f"state_{state}"] = dg.MetadataValue.int(count)
    if report.notes:
        metadata["notes"] = dg.MetadataValue.md("\n".join(f"- {n}" for n in report.notes))
    if report.reasons:
        metadata["not_sent"] = _reasons_table(report)
    return metadata


_MARKDOWN = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#|"})  # a name is text, not markup


def _preview(report: StageReport) -> str:
    """The pass's id-only preview, headed by the hirer's name (an organisation, not a person)."""
    if report.hirer_id == "*":
        return report.preview_markdown()
    label = hirer_label(report.hirer_id, report.hirer_name).translate(_MARKDOWN)
    return f"**{label}** · `{report.hirer_id}`\n\n{report.preview_markdown()}"


REASONS_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("state", "string", description="rejected (never sent) or failed"),
        dg.TableColumn(
            "final", "string", description="a refusal final by design (its kind), else empty"
        ),
        dg.TableColumn("reason", "string"),
        dg.TableColumn("uploads", "int"),
    ]
)


def _reasons_table(report: StageReport) -> dg.MetadataValue:
    """The hirer's rejected and failed uploads, by reason (counts only)."""
    rows = [
        dg.TableRecord(
            {
                "state": state,
                "final": final_refusal(state, reason) or "",
                "reason": reason,
                "uploads": count,
            }
        )
        for (state, reason), count in sorted(report.reasons.items(), key=lambda kv: -kv[1])
    ]
    return dg.MetadataValue.table(rows, schema=REASONS_SCHEMA)


def _log_reasons(log: Any, reports: Iterable[StageReport]) -> None:
    """One line per reason for uploads that became rejected or failed in this pass: a warning
    when it needs a person, info for a refusal final by design."""
    for report in reports:
        for (state, reason), count in sorted(report.new_reasons.items()):
            label = hirer_label(report.hirer_id, report.hirer_name)
            final = final_refusal(state, reason)
            say = log.info if final else log.warning
            say("hirer %s: %d upload(s) %s: %s", label, count, state, reason)


def result(report: StageReport, endpoints: str) -> dg.MaterializeResult:
    """An unpartitioned asset's materialization."""
    return dg.MaterializeResult(metadata=report_metadata(report, endpoints))


def record(
    context: dg.AssetExecutionContext,
    reports: Iterable[StageReport],
    stores: Stores,
    endpoints: str,
    asset_key: str | None = None,
) -> dg.MaterializeResult:
    """An asset step's reports, each with its hirer's name and totals, as the metadata of that
    hirer's partition of the asset (`asset_key`: one of a multi-asset's); the step's result."""
    listed = list(reports)
    describe(stores, listed)
    keys = {h: k for k, h in hirers_of(stores.inbox, context.partition_keys).items()}
    for report in listed:
        context.add_asset_metadata(
            report_metadata(report, endpoints),
            asset_key=asset_key or context.asset_key,
            partition_key=keys[report.hirer_id],
        )
    _log_reasons(context.log, listed)
    return dg.MaterializeResult(asset_key=asset_key)


def _ledger_metadata(work: HirerWork | None) -> dict[str, dg.MetadataValue]:
    """Where the hirer's ledger row stands after a batched pass: what it owes, and when."""
    if work is None:
        return {}
    due = datetime.fromtimestamp(work.due_at, UTC).isoformat() if work.due_at else "nothing owed"
    return {
        "owed": dg.MetadataValue.json(work.owed),
        "next_due": dg.MetadataValue.text(due),
        "consecutive_failures": dg.MetadataValue.int(work.failures),
    }


def record_passes(
    context: dg.OpExecutionContext, passes: Sequence[HirerPass], stores: Stores, endpoints: str
) -> None:
    """A batched run's passes: a materialization of each stage a pass changed (with the hirer's
    totals and ledger row); an unchanged stage's latest materialization still tells its totals."""
    describe(stores, [r for p in passes for r in p.reports if r.changed])
    keys = keys_of(stores.inbox, [p.hirer_id for p in passes])
    for hirer_pass in passes:
        extra = _ledger_metadata(hirer_pass.work)
        for report in hirer_pass.reports:
            if report.changed:
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=report.stage,
                        partition=keys[hirer_pass.hirer_id],
                        metadata=report_metadata(report, endpoints) | extra,
                    )
                )
        _log_reasons(context.log, hirer_pass.reports)
        if hirer_pass.error:
            context.log.warning(
                "hirer %s failed and stays owed: %s", keys[hirer_pass.hirer_id], hirer_pass.error
            )


def record_totals(
    context: dg.OpExecutionContext,
    stores: Stores,
    hirer_ids: Iterable[str],
    why: str,
    endpoints: str,
    extra: Mapping[str, Mapping[str, dg.MetadataValue]] | None = None,
) -> list[str]:
    """After a run that removed rows (purge, retention, SEEK's deletions): each affected hirer's
    current totals as a materialization of every hirer asset, with the metadata a sync records
    (nothing new, the totals as they now are), so the latest totals in the UI match the
    warehouse. `extra`: more metadata per hirer on its `attachment_files`. Hirers whose partition
    is gone (purged whole) are skipped; returns the hirers recorded."""
    has = context.instance.has_dynamic_partition
    keys = keys_of(stores.inbox, set(hirer_ids))
    live = sorted(h for h, key in keys.items() if has(hirer_partitions.name, key))
    reports = [StageReport(stage, h) for h in live for stage in STATE_OF]
    if not reports:
        return []
    describe(stores, reports)
    for report in reports:
        more = (extra or {}).get(report.hirer_id, {}) if report.stage == "attachment_files" else {}
        context.log_event(
            dg.AssetMaterialization(
                asset_key=report.stage,
                partition=keys[report.hirer_id],
                description=why,
                metadata=report_metadata(report, endpoints) | dict(more),
            )
        )
    return live
