"""Asset checks: files accounted for, blobs intact under their own hirer, no stuck uploads, no
upload rejected or failed (by reason), and no hirer failing pass after pass. The batched runs
log the same evaluations per hirer."""

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import dagster as dg

from seek_sync.assets.files import attachment_files
from seek_sync.ledger import Ledger
from seek_sync.pipeline.checks import (
    CheckOutcome,
    blobs_match,
    files_accounted_for,
    keeps_failing,
    not_sent,
    stuck_uploads,
)
from seek_sync.pipeline.hirer_run import HirerPass
from seek_sync.pipeline.stores import Stores
from seek_sync.resources import SeekSyncResource, WarehouseResource

STUCK_AFTER = timedelta(hours=6)
WARN = dg.AssetCheckSeverity.WARN


def _metadata(outcome: CheckOutcome, hirer_id: str) -> dict[str, dg.MetadataValue]:
    return {
        "hirer": dg.MetadataValue.text(hirer_id),
        "failing": dg.MetadataValue.int(outcome.failing),
        "counts": dg.MetadataValue.json(outcome.counts),
        "examples": dg.MetadataValue.json(outcome.examples),
    }


def _result(
    outcomes: dict[str, CheckOutcome],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """One result for the step's hirers (one, or a range in a backfill): passed when all pass."""
    if len(outcomes) == 1:
        [(hirer_id, outcome)] = outcomes.items()
        metadata = _metadata(outcome, hirer_id)
    else:
        failing = {h: o.failing for h, o in outcomes.items() if not o.passed}
        metadata = {
            "hirers": dg.MetadataValue.int(len(outcomes)),
            "failing": dg.MetadataValue.int(sum(failing.values())),
            "failing_hirers": dg.MetadataValue.json(failing),
        }
    passed = all(o.passed for o in outcomes.values())
    return dg.AssetCheckResult(passed=passed, metadata=metadata, severity=severity)


def _hirers(context: dg.AssetCheckExecutionContext) -> list[str]:
    return list(context.op_execution_context.partition_keys)


@dg.asset_check(asset=attachment_files, blocking=True)
def every_attachment_has_file_or_reason(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """Each manifest attachment has a stored file or a recorded reason why not."""
    store = warehouse.open(seek_sync.settings())
    return _result(files_accounted_for(store, _hirers(context)))


@dg.asset_check(asset=attachment_files, blocking=True)
def blobs_match_their_hash_and_hirer(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """Each stored file's blob is under its own hirer's prefix and hashes to its SHA-256."""
    store = warehouse.open(seek_sync.settings())
    return _result(blobs_match(store, seek_sync.blobs(), _hirers(context)))


@dg.asset_check(asset="ats_uploads")
def no_uploads_stuck_in_accepted(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """No upload waits in `accepted` (no callback, no read-back) for more than six hours."""
    store = warehouse.open(seek_sync.settings())
    return _result(stuck_uploads(store, _hirers(context), STUCK_AFTER), WARN)


@dg.asset_check(asset="ats_uploads")
def no_uploads_rejected_or_failed(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """No stored file was refused (`rejected`) or given up (`failed`); counts by reason."""
    store = warehouse.open(seek_sync.settings())
    return _result(not_sent(store, _hirers(context)), WARN)


@dg.asset_check(asset="ats_uploads")
def hirer_is_not_failing(
    context: dg.AssetCheckExecutionContext, seek_sync: SeekSyncResource
) -> dg.AssetCheckResult:
    """The hirer's recent passes did not fail (or leave items failing) three times in a row."""
    work = Ledger(seek_sync.inbox()).rows_for(_hirers(context))
    return _result({h: keeps_failing(w.failures) for h, w in work.items()}, WARN)


def evaluations(
    stores: Stores, passes: Sequence[HirerPass], *, since: datetime
) -> Iterator[dg.AssetCheckEvaluation]:
    """The checks of a batched run's passes, in one warehouse session: the failing check for
    every hirer; the data checks for hirers the pass changed (their new blobs: present, under
    their own prefix; the content address was computed from the bytes as they streamed)."""
    changed = [p.hirer_id for p in passes if p.changed]
    with stores.warehouse.session() as db:
        files = files_accounted_for(db, changed)
        blobs = blobs_match(db, stores.blobs, changed, since=since, rehash=False)
        stuck = stuck_uploads(db, changed, STUCK_AFTER)
        unsent = not_sent(db, changed)
    error = dg.AssetCheckSeverity.ERROR
    for done in passes:
        hirer_id = done.hirer_id
        found: list[tuple[str, str, CheckOutcome, dg.AssetCheckSeverity]] = []
        if done.work is not None:
            failing = keeps_failing(done.work.failures)
            found.append(("ats_uploads", "hirer_is_not_failing", failing, WARN))
        if hirer_id in files:
            found += [
                ("attachment_files", "every_attachment_has_file_or_reason", files[hirer_id], error),
                ("attachment_files", "blobs_match_their_hash_and_hirer", blobs[hirer_id], error),
                ("ats_uploads", "no_uploads_stuck_in_accepted", stuck[hirer_id], WARN),
                ("ats_uploads", "no_uploads_rejected_or_failed", unsent[hirer_id], WARN),
            ]
        for asset, name, outcome, severity in found:
            yield dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey(asset),
                check_name=name,
                passed=outcome.passed,
                metadata=_metadata(outcome, hirer_id),
                severity=severity,
                partition=hirer_id,
            )
