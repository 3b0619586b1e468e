"""Asset checks: files accounted for, blobs intact under their own hirer, no stuck uploads."""

from datetime import timedelta

import dagster as dg

from seek_sync.assets.files import attachment_files
from seek_sync.pipeline.checks import (
    CheckOutcome,
    blobs_match,
    files_accounted_for,
    stuck_uploads,
)
from seek_sync.resources import SeekSyncResource, WarehouseResource

STUCK_AFTER = timedelta(hours=6)


def _result(outcome: CheckOutcome, hirer_id: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        metadata={
            "hirer": dg.MetadataValue.text(hirer_id),
            "failing": dg.MetadataValue.int(outcome.failing),
            "counts": dg.MetadataValue.json(outcome.counts),
            "examples": dg.MetadataValue.json(outcome.examples),
        },
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
    outcome = stuck_uploads(store, _hirer(context), STUCK_AFTER)
    result = _result(outcome, _hirer(context))
    return dg.AssetCheckResult(
        passed=result.passed, metadata=result.metadata, severity=dg.AssetCheckSeverity.WARN
    )
