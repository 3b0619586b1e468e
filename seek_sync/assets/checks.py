"""Asset checks: files accounted for, blobs intact under their own hirer, no stored file waiting
too long for its ATS, no upload rejected or failed (by reason), and no hirer failing pass after
pass. Each result belongs to one hirer: checks are partitioned by hirer (a Dagster preview).

Each check is declared once, by `hirer_check`: its asset, severity and how it computes each hirer's
outcome. From that one declaration come the asset check an asset job runs (a range run logs one
evaluation per hirer plus a summary) and the evaluations a batched run logs per hirer
(`evaluate_passes`); `assets/reporting.py` turns outcomes into what Dagster shows.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import dagster as dg

from seek_sync.assets.reporting import check_evaluations, check_result
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
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Reader

WARN, ERROR = dg.AssetCheckSeverity.WARN, dg.AssetCheckSeverity.ERROR


@dataclass(frozen=True)
class Evidence:
    """What the checks read."""

    db: Reader
    blobs: BlobStore
    failures: Mapping[str, int]  # each hirer's consecutive failed passes (its ledger row)
    warn_after: timedelta
    since: datetime | None = None  # only files downloaded since (a batched run: its own)
    rehash: bool = True  # False right after a download: the content address came from the bytes


Outcomes = Callable[[Evidence, Sequence[str]], dict[str, CheckOutcome]]


@dataclass(frozen=True)
class HirerCheck:
    asset: str
    name: str
    description: str
    severity: dg.AssetCheckSeverity
    outcomes: Outcomes
    blocking: bool
    reads_rows: bool  # the hirer's warehouse rows: a batched run checks those it changed


CHECKS: list[HirerCheck] = []  # every check, in the order declared


def hirer_check(
    asset: str,
    severity: dg.AssetCheckSeverity,
    *,
    blocking: bool = False,
    reads_rows: bool = True,
) -> Callable[[Outcomes], dg.AssetChecksDefinition]:
    """Declares a check (its name and description are the function's) and returns its asset
    check; the batched runs evaluate it through `CHECKS`."""

    def declare(outcomes: Outcomes) -> dg.AssetChecksDefinition:
        check = HirerCheck(
            asset,
            outcomes.__name__,
            (outcomes.__doc__ or "").strip(),
            severity,
            outcomes,
            blocking,
            reads_rows,
        )
        CHECKS.append(check)
        return _asset_check(check)

    return declare


def _asset_check(check: HirerCheck) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=check.asset,
        name=check.name,
        description=check.description,
        blocking=check.blocking,
        partitions_def=hirer_partitions,
    )
    def run(
        context: dg.AssetCheckExecutionContext,
        seek_sync: SeekSyncResource,
        warehouse: WarehouseResource,
    ) -> dg.AssetCheckResult:
        settings, inbox = seek_sync.settings(), seek_sync.inbox()
        hirer_ids = list(context.op_execution_context.partition_keys)
        work = Ledger(inbox).rows_for(hirer_ids)
        evidence = Evidence(
            warehouse.open(settings),
            seek_sync.blobs(),
            {h: w.failures for h, w in work.items()},
            timedelta(hours=settings.unsettled_upload_warn_hours),
        )
        return check_result(context, check, check.outcomes(evidence, hirer_ids), hirer_names(inbox))

    return run


@hirer_check("attachment_files", ERROR, blocking=True)
def every_attachment_has_file_or_reason(
    evidence: Evidence, hirer_ids: Sequence[str]
) -> dict[str, CheckOutcome]:
    """Each manifest attachment has a stored file or a recorded reason why not."""
    return files_accounted_for(evidence.db, hirer_ids)


@hirer_check("attachment_files", ERROR, blocking=True)
def blobs_match_their_hash_and_hirer(
    evidence: Evidence, hirer_ids: Sequence[str]
) -> dict[str, CheckOutcome]:
    """Each stored file's blob is under its own hirer's prefix and hashes to its SHA-256."""
    return blobs_match(
        evidence.db, evidence.blobs, hirer_ids, since=evidence.since, rehash=evidence.rehash
    )


@hirer_check("ats_uploads", WARN)
def oldest_unsettled_upload_is_recent(
    evidence: Evidence, hirer_ids: Sequence[str]
) -> dict[str, CheckOutcome]:
    """No stored file has waited to settle in its ATS longer than the limit (default 6 h)."""
    return unsettled_uploads(evidence.db, hirer_ids, evidence.warn_after)


@hirer_check("ats_uploads", WARN)
def no_uploads_rejected_or_failed(
    evidence: Evidence, hirer_ids: Sequence[str]
) -> dict[str, CheckOutcome]:
    """No stored file was refused (`rejected`) or given up (`failed`); counts by reason."""
    return not_sent(evidence.db, hirer_ids)


@hirer_check("ats_uploads", WARN, reads_rows=False)
def hirer_is_not_failing(evidence: Evidence, hirer_ids: Sequence[str]) -> dict[str, CheckOutcome]:
    """The hirer's recent passes did not fail (or leave items failing) three times in a row."""
    return {h: keeps_failing(evidence.failures[h]) for h in hirer_ids if h in evidence.failures}


def evaluate_passes(
    instance: dg.DagsterInstance,
    stores: Stores,
    passes: Sequence[HirerPass],
    *,
    since: datetime,
    warn_after: timedelta,
) -> Iterator[dg.AssetCheckEvaluation]:
    """Every check of a batched run's passes, in one warehouse session: those that read rows for
    the hirers whose pass changed something (their new blobs: present, under their own prefix;
    the content address was computed from the bytes as they streamed), the others for all."""
    changed = [p.hirer_id for p in passes if p.changed]
    failures = {p.hirer_id: p.work.failures for p in passes if p.work is not None}
    with stores.warehouse.session() as db:
        evidence = Evidence(db, stores.blobs, failures, warn_after, since=since, rehash=False)
        found = {
            c: c.outcomes(evidence, changed if c.reads_rows else list(failures)) for c in CHECKS
        }
    return check_evaluations(instance, found, hirer_names(stores.inbox))
