"""Each hirer's current totals in a stage's table: rows, rows per state, bytes (no Dagster).

A stage's report says what its pass changed; the totals say where the hirer stands, so the latest
materialization of any partition is informative even when the pass changed nothing. One query per
stage for all of a run's hirers, in the caller's warehouse session.
"""

from __future__ import annotations

from collections.abc import Sequence

from seek_sync.pipeline.hirers import hirer_names
from seek_sync.pipeline.report import StageReport, Totals
from seek_sync.pipeline.stores import Stores
from seek_sync.store.warehouse import Reader, in_hirers

# The stage's table is named after it; the column (or expression) its rows are counted by.
STATE_OF: dict[str, str] = {
    "application_events": "type_code",
    "candidate_profiles": "status",
    "attachment_manifest": "COALESCE(role, 'Other')",
    "attachment_files": "status",
    "ats_candidates": "state",
    "ats_uploads": "state",
}
# Stages whose totals include bytes: the sum over the hirer's stored files.
STORED_BYTES = {"attachment_files": "COALESCE(SUM(bytes) FILTER (WHERE status = 'stored'), 0)"}


def hirer_totals(db: Reader, stage: str, hirer_ids: Sequence[str]) -> dict[str, Totals]:
    """The stage's rows per hirer and state (every hirer asked for, zero when it has none)."""
    size = STORED_BYTES.get(stage, "0")
    frame = db.query(
        f"SELECT hirer_id, {STATE_OF[stage]} AS state, COUNT(*) AS n, {size} AS size "
        f"FROM {stage} WHERE {in_hirers()} GROUP BY hirer_id, 2 ORDER BY state",
        [list(hirer_ids)],
    )
    out = {h: Totals(bytes=0 if stage in STORED_BYTES else None) for h in hirer_ids}
    for hirer_id, state, count, size in frame.itertuples(index=False):
        totals = out[hirer_id]
        totals.rows += int(count)
        totals.states[str(state)] = int(count)
        if totals.bytes is not None:
            totals.bytes += int(size)
    return out


def describe(stores: Stores, reports: Sequence[StageReport]) -> None:
    """Each report's hirer name and totals: one short read session, one query per stage."""
    names = hirer_names(stores.inbox)
    by_stage: dict[str, list[StageReport]] = {}
    for report in reports:
        report.hirer_name = names.get(report.hirer_id)
        if report.stage in STATE_OF:
            by_stage.setdefault(report.stage, []).append(report)
    if not by_stage:
        return
    with stores.warehouse.session() as db:
        for stage, stage_reports in by_stage.items():
            totals = hirer_totals(db, stage, sorted({r.hirer_id for r in stage_reports}))
            for report in stage_reports:
                report.totals = totals[report.hirer_id]
