"""A stage report as materialization metadata: counts, states and an id-only preview."""

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
    return metadata


def result(report: StageReport, endpoints: str) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=report_metadata(report, endpoints))
