"""A stage report as materialization metadata: counts, states and an id-only preview."""

from typing import Any

import dagster as dg
from rich.filesize import decimal

from seek_sync.ids import hirer_label
from seek_sync.pipeline.report import StageReport


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
        metadata["not_sent"] = reasons_table(report)
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
        dg.TableColumn("reason", "string"),
        dg.TableColumn("uploads", "int"),
    ]
)


def reasons_table(report: StageReport) -> dg.MetadataValue:
    """The hirer's rejected and failed uploads, by reason (counts only)."""
    rows = [
        dg.TableRecord({"state": state, "reason": reason, "uploads": count})
        for (state, reason), count in sorted(report.reasons.items(), key=lambda kv: -kv[1])
    ]
    return dg.MetadataValue.table(rows, schema=REASONS_SCHEMA)


def log_reasons(log: Any, report: StageReport) -> None:
    """One warning per reason for uploads that became rejected or failed in this pass."""
    for (state, reason), count in sorted(report.new_reasons.items()):
        label = hirer_label(report.hirer_id, report.hirer_name)
        log.warning("hirer %s: %d upload(s) %s: %s", label, count, state, reason)


def result(report: StageReport, endpoints: str) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=report_metadata(report, endpoints))
