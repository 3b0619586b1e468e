"""A stage report as materialization metadata: counts, states and an id-only preview."""

from typing import Any

import dagster as dg

from seek_sync.pipeline.report import StageReport


def report_metadata(report: StageReport, endpoints: str) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "rows_new": dg.MetadataValue.int(report.new),
        "rows_updated": dg.MetadataValue.int(report.updated),
        "rows_unchanged": dg.MetadataValue.int(report.unchanged),
        "by_state": dg.MetadataValue.json(dict(sorted(report.states.items()))),
        "preview": dg.MetadataValue.md(report.preview_markdown()),
        "endpoints": dg.MetadataValue.text(endpoints),
    }
    if report.stage == "attachment_files":
        metadata["bytes_downloaded"] = dg.MetadataValue.int(report.bytes)
    for state, count in report.states.items():
        metadata[f"state_{state}"] = dg.MetadataValue.int(count)
    if report.notes:
        metadata["notes"] = dg.MetadataValue.md("\n".join(f"- {n}" for n in report.notes))
    if report.reasons:
        metadata["not_sent"] = reasons_table(report)
    return metadata


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
        log.warning("hirer %s: %d upload(s) %s: %s", report.hirer_id, count, state, reason)


def result(report: StageReport, endpoints: str) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=report_metadata(report, endpoints))
