"""What Dagster shows of a pass, the same for an asset step and for the batched op.

A stage's report becomes its hirer's materialization metadata (counts, states, an id-only preview):
an asset step attaches it to the partition it materializes (`record`); the batched op, which
materializes no asset of its own, logs a materialization per hirer and stage it changed
(`record_passes`). A check's outcomes (`assets/checks.py`) become the check step's result
(`check_result`) or, from the batched op, one evaluation per hirer (`check_evaluations`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dagster as dg

# Not exported at the top level in 1.13; the type of `AssetCheckEvaluation`'s own field.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData as Target,
)
from rich.filesize import decimal

from seek_sync.ids import hirer_label
from seek_sync.pipeline.checks import CheckOutcome
from seek_sync.pipeline.hirer_run import HirerPass
from seek_sync.pipeline.report import StageReport
from seek_sync.pipeline.stores import Stores
from seek_sync.pipeline.totals import describe
from seek_sync.runstate.ledger import HirerWork

if TYPE_CHECKING:
    from seek_sync.assets.checks import HirerCheck

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
        dg.TableColumn("reason", "string"),
        dg.TableColumn("uploads", "int"),
    ]
)


def _reasons_table(report: StageReport) -> dg.MetadataValue:
    """The hirer's rejected and failed uploads, by reason (counts only)."""
    rows = [
        dg.TableRecord({"state": state, "reason": reason, "uploads": count})
        for (state, reason), count in sorted(report.reasons.items(), key=lambda kv: -kv[1])
    ]
    return dg.MetadataValue.table(rows, schema=REASONS_SCHEMA)


def _log_reasons(log: Any, reports: Iterable[StageReport]) -> None:
    """One warning per reason for uploads that became rejected or failed in this pass."""
    for report in reports:
        for (state, reason), count in sorted(report.new_reasons.items()):
            label = hirer_label(report.hirer_id, report.hirer_name)
            log.warning("hirer %s: %d upload(s) %s: %s", label, count, state, reason)


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
    for report in listed:
        context.add_asset_metadata(
            report_metadata(report, endpoints),
            asset_key=asset_key or context.asset_key,
            partition_key=report.hirer_id,
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
    for hirer_pass in passes:
        extra = _ledger_metadata(hirer_pass.work)
        for report in hirer_pass.reports:
            if report.changed:
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=report.stage,
                        partition=hirer_pass.hirer_id,
                        metadata=report_metadata(report, endpoints) | extra,
                    )
                )
        _log_reasons(context.log, hirer_pass.reports)
        if hirer_pass.error:
            context.log.warning(
                "hirer %s failed and stays owed: %s", hirer_pass.hirer_id, hirer_pass.error
            )


# --- a check's outcomes ----------------------------------------------------------------------

SUMMARY_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("hirer", "string", description="name (token)"),
        dg.TableColumn("failing", "int", description="rows that fail the check"),
        dg.TableColumn("counts", "string"),
    ]
)


def _check_metadata(
    outcome: CheckOutcome, hirer_id: str, name: str | None
) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "hirer": dg.MetadataValue.text(hirer_label(hirer_id, name)),
        "hirer_id": dg.MetadataValue.text(hirer_id),
        "failing": dg.MetadataValue.int(outcome.failing),
        # The counts as one line of text, readable in the UI without opening the JSON.
        "summary": dg.MetadataValue.text(
            "; ".join(f"{n} × {k}" for k, n in sorted(outcome.counts.items())) or "nothing"
        ),
        "counts": dg.MetadataValue.json(outcome.counts),
        "examples": dg.MetadataValue.json(outcome.examples),
    }
    return metadata | {k: dg.MetadataValue.float(v) for k, v in outcome.measures.items()}


def _evaluation(
    check: HirerCheck,
    hirer_id: str,
    outcome: CheckOutcome,
    names: Mapping[str, str],
    targets: Mapping[str, Target],
) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(check.asset),
        check_name=check.name,
        passed=outcome.passed,
        metadata=_check_metadata(outcome, hirer_id, names.get(hirer_id)),
        severity=check.severity,
        partition=hirer_id,
        target_materialization_data=targets.get(hirer_id),
    )


def check_result(
    context: dg.AssetCheckExecutionContext,
    check: HirerCheck,
    outcomes: dict[str, CheckOutcome],
    names: Mapping[str, str],
) -> dg.AssetCheckResult:
    """The check step's hirer's result; in a range run (a backfill), each hirer's evaluation
    logged under its own partition, and a summary (failing hirers by name) returned."""
    if len(outcomes) == 1:
        [(hirer_id, outcome)] = outcomes.items()
        metadata = _check_metadata(outcome, hirer_id, names.get(hirer_id))
        return dg.AssetCheckResult(
            passed=outcome.passed, metadata=metadata, severity=check.severity
        )
    targets = _latest(context.instance, check.asset, list(outcomes))
    for hirer_id, outcome in outcomes.items():
        context.op_execution_context.log_event(
            _evaluation(check, hirer_id, outcome, names, targets)
        )
    failing = [
        dg.TableRecord(
            {"hirer": hirer_label(h, names.get(h)), "failing": o.failing, "counts": str(o.counts)}
        )
        for h, o in outcomes.items()
        if not o.passed
    ]
    metadata = {
        "hirers": dg.MetadataValue.int(len(outcomes)),
        "failing": dg.MetadataValue.int(sum(o.failing for o in outcomes.values())),
        "failing_hirers": dg.MetadataValue.table(failing, schema=SUMMARY_SCHEMA),
    }
    passed = all(o.passed for o in outcomes.values())
    return dg.AssetCheckResult(passed=passed, metadata=metadata, severity=check.severity)


def check_evaluations(
    instance: dg.DagsterInstance,
    found: Mapping[HirerCheck, dict[str, CheckOutcome]],
    names: Mapping[str, str],
) -> Iterator[dg.AssetCheckEvaluation]:
    """Each check's outcome per hirer as an evaluation logged from the batched op."""
    assets = {check.asset for check in found}
    hirer_ids = sorted({h for outcomes in found.values() for h in outcomes})
    latest = {asset: _latest(instance, asset, hirer_ids) for asset in assets}
    for check, outcomes in found.items():
        for hirer_id, outcome in outcomes.items():
            yield _evaluation(check, hirer_id, outcome, names, latest[check.asset])


def _latest(
    instance: dg.DagsterInstance, asset: str, hirer_ids: Sequence[str]
) -> dict[str, Target]:
    """Each hirer's latest materialization of the asset (two queries for all of them), which an
    evaluation logged outside the check's own step must name: the UI counts a partition's result
    only while it targets the partition's latest materialization (else "missing")."""
    asset_key = dg.AssetKey(asset)
    latest = instance.event_log_storage.get_latest_storage_id_by_partition(
        asset_key, dg.DagsterEventType.ASSET_MATERIALIZATION, set(hirer_ids)
    )
    if not latest:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, storage_ids=list(latest.values())),
        limit=len(latest),
    ).records
    by_id = {r.storage_id: r for r in records}
    return {
        hirer_id: Target(storage_id=i, run_id=by_id[i].run_id, timestamp=by_id[i].timestamp)
        for hirer_id, i in latest.items()
        if i in by_id
    }
