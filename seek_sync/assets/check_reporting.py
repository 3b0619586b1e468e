"""What Dagster shows of a check's outcomes: the check step's result (`check_result`) or, from the
batched op and after a removal, one evaluation per hirer (`check_evaluations`), each under the
hirer's partition key and naming the latest materialization it judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import dagster as dg

# Not exported at the top level in 1.13; the type of `AssetCheckEvaluation`'s own field.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData as Target,
)

from seek_sync.ids import hirer_label
from seek_sync.partitions import keys_of, latest_materializations
from seek_sync.pipeline.checks import CheckOutcome
from seek_sync.pipeline.hirers import hirer_names
from seek_sync.runstate.inbox import Inbox

if TYPE_CHECKING:
    from seek_sync.assets.checks import HirerCheck

Labels = tuple[Mapping[str, str], Mapping[str, str]]  # hirer id -> name; hirer id -> key


def labels_of(inbox: Inbox, hirer_ids: Iterable[str]) -> Labels:
    """The hirers' names (those SEEK gave) and partition keys."""
    return hirer_names(inbox), keys_of(inbox, hirer_ids)


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
    labels: Labels,
    targets: Mapping[str, Target],
) -> dg.AssetCheckEvaluation:
    names, keys = labels
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(check.asset),
        check_name=check.name,
        passed=outcome.passed,
        metadata=_check_metadata(outcome, hirer_id, names.get(hirer_id)),
        severity=check.severity,
        partition=keys[hirer_id],
        target_materialization_data=targets.get(hirer_id),
    )


def check_result(
    context: dg.AssetCheckExecutionContext,
    check: HirerCheck,
    outcomes: dict[str, CheckOutcome],
    labels: Labels,
) -> dg.AssetCheckResult:
    """The check step's hirer's result; in a range run (a backfill), each hirer's evaluation
    logged under its own partition, and a summary (failing hirers by name) returned. `labels`:
    the hirers' names and partition keys."""
    names, keys = labels
    if len(outcomes) == 1:
        [(hirer_id, outcome)] = outcomes.items()
        metadata = _check_metadata(outcome, hirer_id, names.get(hirer_id))
        return dg.AssetCheckResult(
            passed=outcome.passed, metadata=metadata, severity=check.severity
        )
    targets = _latest(context.instance, check.asset, {h: keys[h] for h in outcomes})
    for hirer_id, outcome in outcomes.items():
        context.op_execution_context.log_event(
            _evaluation(check, hirer_id, outcome, labels, targets)
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
    inbox: Inbox,
) -> Iterator[dg.AssetCheckEvaluation]:
    """Each check's outcome per hirer as an evaluation logged from the batched op."""
    assets = {check.asset for check in found}
    hirer_ids = sorted({h for outcomes in found.values() for h in outcomes})
    labels = labels_of(inbox, hirer_ids)
    latest = {asset: _latest(instance, asset, labels[1]) for asset in assets}
    for check, outcomes in found.items():
        for hirer_id, outcome in outcomes.items():
            yield _evaluation(check, hirer_id, outcome, labels, latest[check.asset])


def _latest(instance: dg.DagsterInstance, asset: str, keys: Mapping[str, str]) -> dict[str, Target]:
    """Each hirer's latest materialization of the asset (`keys`: hirer id -> partition key; two
    queries for all of them), which an evaluation logged outside the check's own step must name:
    the UI counts a partition's result only while it targets the partition's latest
    materialization (else "missing")."""
    hirer_of = {k: h for h, k in keys.items()}
    records = latest_materializations(instance, dg.AssetKey(asset), list(hirer_of))
    return {
        hirer_of[key]: Target(storage_id=r.storage_id, run_id=r.run_id, timestamp=r.timestamp)
        for key, r in records.items()
    }
