"""Asset checks: files accounted for, blobs intact under their own hirer, no stored file waiting
too long for its ATS, no upload rejected or failed (by reason), and no hirer failing pass after
pass. Each result belongs to one hirer: checks are partitioned by hirer (a Dagster preview).

Each check is declared once, by `hirer_check`: its asset, severity and how it computes each hirer's
outcome. From that one declaration come the asset check an asset job runs (a range run logs one
evaluation per hirer plus a summary) and the evaluations a batched run logs per hirer
(`evaluate_passes`); `assets/check_reporting.py` turns outcomes into what Dagster shows.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import dagster as dg

from seek_sync.assets.check_reporting import check_evaluations, check_result
from seek_sync.assets.reporting import record_totals
from seek_sync.partitions import hirer_partitions, hirers_of
from seek_sync.pipeline import checks as rules
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
        of_key = hirers_of(inbox, context.op_execution_context.partition_keys)
        hirer_ids, keys = list(of_key.values()), {h: k for k, h in of_key.items()}
        work = Ledger(inbox).rows_for(hirer_ids)
        evidence = Evidence(
            warehouse.open(settings),
            seek_sync.blobs(),
            {h: w.failures for h, w in work.items()},
            timedelta(hours=settings.unsettled_upload_warn_hours),
        )
        outcomes = check.outcomes(evidence, hirer_ids)
        return check_result(context, check, outcomes, (hirer_names(inbox), keys))

    return run


@hirer_check("attachment_files", ERROR, blocking=True)
def every_file_accounted_for(
    evidence: Evidence, hirer_ids: Sequence[str]
) -> dict[str, CheckOutcome]:
    """Each manifest attachment has a stored file or a recorded reason why not."""
    return files_accounted_for(evidence.db, hirer_ids)


@hirer_check("attachment_files", ERROR, blocking=True)
def blobs_intact(evidence: Evidence, hirer_ids: Sequence[str]) -> dict[str, CheckOutcome]:
    """Each stored file's blob is under its own hirer's prefix and hashes to its SHA-256."""
    return blobs_match(
        evidence.db, evidence.blobs, hirer_ids, since=evidence.since, rehash=evidence.rehash
    )


@hirer_check("attachment_files", ERROR, blocking=True, reads_rows=False)
def no_blobs_on_demand(evidence: Evidence, hirer_ids: Sequence[str]) -> dict[str, CheckOutcome]:
    """A hirer whose attachments are on demand has no blob in the blob store."""
    return rules.no_blobs_on_demand(evidence.blobs, hirer_ids)


@hirer_check("ats_uploads", WARN)
def uploads_settle_in_time(evidence: Evidence, hirer_ids: Sequence[str]) -> dict[str, CheckOutcome]:
    """No stored file has waited to settle in its ATS longer than the limit (default 6 h)."""
    return unsettled_uploads(evidence.db, hirer_ids, evidence.warn_after)


@hirer_check("ats_uploads", WARN)
def no_upload_needs_action(evidence: Evidence, hirer_ids: Sequence[str]) -> dict[str, CheckOutcome]:
    """No upload needs a person: none given up after its retries (`failed`) nor refused for a
    reason not final by design. Executables, archives, files over the size limit and types the
    ATS does not take are counted by reason (`final_by_design`) but pass."""
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
    return check_evaluations(instance, found, stores.inbox)


def after_removal(
    context: dg.OpExecutionContext,
    stores: Stores,
    hirer_ids: Sequence[str],
    why: str,
    seek_sync: SeekSyncResource,
    extra: Mapping[str, Mapping[str, dg.MetadataValue]] | None = None,
) -> None:
    """A removal's affected hirers: their totals on every hirer asset (`record_totals`), then
    every check evaluated on those new materializations, so a check's result stays current for
    the hirer (else the UI counts it "missing" until the next sync)."""
    live = record_totals(context, stores, hirer_ids, why, seek_sync.endpoints(), extra)
    if not live:
        return
    work = Ledger(stores.inbox).rows_for(live)
    failures = {h: w.failures for h, w in work.items()}
    warn_after = timedelta(hours=seek_sync.settings().unsettled_upload_warn_hours)
    with stores.warehouse.session() as db:
        evidence = Evidence(db, stores.blobs, failures, warn_after)
        found = {c: c.outcomes(evidence, live if c.reads_rows else list(failures)) for c in CHECKS}
    for evaluation in check_evaluations(context.instance, found, stores.inbox):
        context.log_event(evaluation)
