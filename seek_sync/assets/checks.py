"""Asset checks: files accounted for, blobs intact under their own hirer, no stored file waiting
too long for its ATS, no upload rejected or failed (by reason), and no hirer failing pass after
pass. Each result belongs to one hirer: checks are partitioned by hirer (a Dagster preview), a
range run logs one evaluation per hirer plus a summary, and batched runs log theirs per hirer."""

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta

import dagster as dg

# Not exported at the top level in 1.13; the type of `AssetCheckEvaluation`'s own field.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData as Target,
)

from seek_sync.assets.files import attachment_files
from seek_sync.ids import hirer_label
from seek_sync.partitions import hirer_partitions
from seek_sync.pipeline.checks import (
    CheckOutcome,
    blobs_match,
    files_accounted_for,
    keeps_failing,
    not_sent,
    unsettled_uploads,
)
from seek_sync.pipeline.hirer_run import HirerPass
from seek_sync.pipeline.hirers import hirer_names
from seek_sync.pipeline.stores import Stores
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.runstate.ledger import Ledger

WARN, ERROR = dg.AssetCheckSeverity.WARN, dg.AssetCheckSeverity.ERROR
CHECKED_ASSETS = ("attachment_files", "ats_uploads")
SUMMARY_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("hirer", "string", description="name (token)"),
        dg.TableColumn("failing", "int", description="rows that fail the check"),
        dg.TableColumn("counts", "string"),
    ]
)


def _metadata(
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


def _result(
    context: dg.AssetCheckExecutionContext,
    outcomes: dict[str, CheckOutcome],
    names: Mapping[str, str],
    severity: dg.AssetCheckSeverity = ERROR,
) -> dg.AssetCheckResult:
    """The step's hirer's result; in a range run (a backfill), each hirer's evaluation logged
    under its own partition, and a summary (failing hirers by name) returned."""
    if len(outcomes) == 1:
        [(hirer_id, outcome)] = outcomes.items()
        metadata = _metadata(outcome, hirer_id, names.get(hirer_id))
        return dg.AssetCheckResult(passed=outcome.passed, metadata=metadata, severity=severity)
    [spec] = context.check_specs
    targets = _targets(context.instance, spec.asset_key, list(outcomes))
    for hirer_id, outcome in outcomes.items():
        context.op_execution_context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=spec.asset_key,
                check_name=spec.name,
                passed=outcome.passed,
                metadata=_metadata(outcome, hirer_id, names.get(hirer_id)),
                severity=severity,
                partition=hirer_id,
                target_materialization_data=targets.get(hirer_id),
            )
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
    return dg.AssetCheckResult(passed=passed, metadata=metadata, severity=severity)


def _targets(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, hirer_ids: Sequence[str]
) -> dict[str, Target]:
    """Each hirer's latest materialization of the asset (two queries for all of them), which an
    evaluation logged outside the check's own step must name: the UI counts a partition's result
    only while it targets the partition's latest materialization (else "missing")."""
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


def _hirers(context: dg.AssetCheckExecutionContext) -> list[str]:
    return list(context.op_execution_context.partition_keys)


@dg.asset_check(asset=attachment_files, blocking=True, partitions_def=hirer_partitions)
def every_attachment_has_file_or_reason(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """Each manifest attachment has a stored file or a recorded reason why not."""
    store = warehouse.open(seek_sync.settings())
    outcomes = files_accounted_for(store, _hirers(context))
    return _result(context, outcomes, hirer_names(seek_sync.inbox()))


@dg.asset_check(asset=attachment_files, blocking=True, partitions_def=hirer_partitions)
def blobs_match_their_hash_and_hirer(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """Each stored file's blob is under its own hirer's prefix and hashes to its SHA-256."""
    store = warehouse.open(seek_sync.settings())
    outcomes = blobs_match(store, seek_sync.blobs(), _hirers(context))
    return _result(context, outcomes, hirer_names(seek_sync.inbox()))


@dg.asset_check(asset="ats_uploads", partitions_def=hirer_partitions)
def oldest_unsettled_upload_is_recent(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """No stored file has waited to settle in its ATS longer than the limit (default 6 h)."""
    settings = seek_sync.settings()
    outcomes = unsettled_uploads(
        warehouse.open(settings),
        _hirers(context),
        timedelta(hours=settings.unsettled_upload_warn_hours),
    )
    return _result(context, outcomes, hirer_names(seek_sync.inbox()), WARN)


@dg.asset_check(asset="ats_uploads", partitions_def=hirer_partitions)
def no_uploads_rejected_or_failed(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """No stored file was refused (`rejected`) or given up (`failed`); counts by reason."""
    store = warehouse.open(seek_sync.settings())
    return _result(context, not_sent(store, _hirers(context)), hirer_names(seek_sync.inbox()), WARN)


@dg.asset_check(asset="ats_uploads", partitions_def=hirer_partitions)
def hirer_is_not_failing(
    context: dg.AssetCheckExecutionContext, seek_sync: SeekSyncResource
) -> dg.AssetCheckResult:
    """The hirer's recent passes did not fail (or leave items failing) three times in a row."""
    inbox = seek_sync.inbox()
    work = Ledger(inbox).rows_for(_hirers(context))
    outcomes = {h: keeps_failing(w.failures) for h, w in work.items()}
    return _result(context, outcomes, hirer_names(inbox), WARN)


def evaluations(
    instance: dg.DagsterInstance,
    stores: Stores,
    passes: Sequence[HirerPass],
    *,
    since: datetime,
    warn_after_hours: float,
) -> Iterator[dg.AssetCheckEvaluation]:
    """The checks of a batched run's passes, in one warehouse session: the failing check for
    every hirer; the data checks for hirers the pass changed (their new blobs: present, under
    their own prefix; the content address was computed from the bytes as they streamed)."""
    changed = [p.hirer_id for p in passes if p.changed]
    with stores.warehouse.session() as db:
        files = files_accounted_for(db, changed)
        blobs = blobs_match(db, stores.blobs, changed, since=since, rehash=False)
        unsettled = unsettled_uploads(db, changed, timedelta(hours=warn_after_hours))
        unsent = not_sent(db, changed)
    names = hirer_names(stores.inbox)
    hirer_ids = [p.hirer_id for p in passes]
    targets = {a: _targets(instance, dg.AssetKey(a), hirer_ids) for a in CHECKED_ASSETS}
    for done in passes:
        hirer_id = done.hirer_id
        found: list[tuple[str, str, CheckOutcome, dg.AssetCheckSeverity]] = []
        if done.work is not None:
            failing = keeps_failing(done.work.failures)
            found.append(("ats_uploads", "hirer_is_not_failing", failing, WARN))
        if hirer_id in files:
            found += [
                ("attachment_files", "every_attachment_has_file_or_reason", files[hirer_id], ERROR),
                ("attachment_files", "blobs_match_their_hash_and_hirer", blobs[hirer_id], ERROR),
                ("ats_uploads", "oldest_unsettled_upload_is_recent", unsettled[hirer_id], WARN),
                ("ats_uploads", "no_uploads_rejected_or_failed", unsent[hirer_id], WARN),
            ]
        for asset, name, outcome, severity in found:
            yield dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey(asset),
                check_name=name,
                passed=outcome.passed,
                metadata=_metadata(outcome, hirer_id, names.get(hirer_id)),
                severity=severity,
                partition=hirer_id,
                target_materialization_data=targets[asset].get(hirer_id),
            )
