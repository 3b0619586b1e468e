"""Asset checks: files accounted for, blobs intact under their own hirer, no stuck uploads, and
no hirer failing pass after pass. The batched runs log the same evaluations per hirer."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import dagster as dg

from seek_sync.assets.files import attachment_files
from seek_sync.ledger import HirerWork, Ledger
from seek_sync.pipeline.checks import (
    CheckOutcome,
    blobs_match,
    files_accounted_for,
    keeps_failing,
    stuck_uploads,
)
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
    outcome: CheckOutcome,
    hirer_id: str,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed, metadata=_metadata(outcome, hirer_id), severity=severity
    )


def _hirer(context: dg.AssetCheckExecutionContext) -> str:
    return context.op_execution_context.partition_key


@dg.asset_check(asset=attachment_files, blocking=True)
def every_attachment_has_file_or_reason(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """Each manifest attachment has a stored file or a recorded reason why not."""
    store = warehouse.open(seek_sync.settings())
    return _result(files_accounted_for(store, _hirer(context)), _hirer(context))


@dg.asset_check(asset=attachment_files, blocking=True)
def blobs_match_their_hash_and_hirer(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """Each stored file's blob is under its own hirer's prefix and hashes to its SHA-256."""
    store = warehouse.open(seek_sync.settings())
    outcome = blobs_match(store, seek_sync.blobs(), _hirer(context))
    return _result(outcome, _hirer(context))


@dg.asset_check(asset="ats_uploads")
def no_uploads_stuck_in_accepted(
    context: dg.AssetCheckExecutionContext,
    seek_sync: SeekSyncResource,
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    """No upload waits in `accepted` (no callback, no read-back) for more than six hours."""
    store = warehouse.open(seek_sync.settings())
    return _result(stuck_uploads(store, _hirer(context), STUCK_AFTER), _hirer(context), WARN)


@dg.asset_check(asset="ats_uploads")
def hirer_is_not_failing(
    context: dg.AssetCheckExecutionContext, seek_sync: SeekSyncResource
) -> dg.AssetCheckResult:
    """The hirer's recent passes did not fail (or leave items failing) three times in a row."""
    work = Ledger(seek_sync.inbox()).row(_hirer(context))
    return _result(keeps_failing(work.failures), _hirer(context), WARN)


def evaluations(
    stores: Stores, hirer_id: str, work: HirerWork | None, *, since: datetime, changed: bool
) -> Iterator[dg.AssetCheckEvaluation]:
    """The checks of one hirer's pass in a batched run: the failing check always; the data
    checks when the pass changed something (blobs: only those downloaded in the pass)."""
    found: list[tuple[str, str, CheckOutcome, dg.AssetCheckSeverity]] = []
    if work is not None:
        found.append(("ats_uploads", "hirer_is_not_failing", keeps_failing(work.failures), WARN))
    if changed:
        warehouse, error = stores.warehouse, dg.AssetCheckSeverity.ERROR
        found += [
            (
                "attachment_files",
                "every_attachment_has_file_or_reason",
                files_accounted_for(warehouse, hirer_id),
                error,
            ),
            (
                "attachment_files",
                "blobs_match_their_hash_and_hirer",
                blobs_match(warehouse, stores.blobs, hirer_id, since=since),
                error,
            ),
            (
                "ats_uploads",
                "no_uploads_stuck_in_accepted",
                stuck_uploads(warehouse, hirer_id, STUCK_AFTER),
                WARN,
            ),
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
