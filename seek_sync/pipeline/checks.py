"""Data-quality checks over hirers' rows in the warehouse and their blobs (no Dagster).

Each check takes a list of hirers and reads their rows in one query, so a batched run checks all
its hirers in one short session; the asset checks pass one hirer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd

from seek_sync.ats.base import NOT_SENT, SETTLED
from seek_sync.pipeline.refusals import final_refusal
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Reader, in_hirers, sql_literals

FAILING_AFTER = 3  # consecutive failed passes before a hirer is flagged as failing
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class CheckOutcome:
    passed: bool
    failing: int
    counts: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # ids only
    measures: dict[str, float] = field(default_factory=dict)  # e.g. the oldest item's age


def _per_hirer(
    frame: pd.DataFrame, hirer_ids: Sequence[str], bad: pd.Series, state: str
) -> dict[str, CheckOutcome]:
    out = {}
    for hirer_id in hirer_ids:
        mine = frame["hirer_id"] == hirer_id
        failing = frame[mine & bad]
        counts = frame[mine][state].fillna("no_row").value_counts().to_dict()
        out[hirer_id] = CheckOutcome(
            failing.empty, len(failing), counts, list(failing["attachment_id"][:5])
        )
    return out


def files_accounted_for(db: Reader, hirer_ids: Sequence[str]) -> dict[str, CheckOutcome]:
    """Every manifest attachment has a stored file or a recorded reason."""
    frame = db.query(
        "SELECT m.hirer_id, m.attachment_id, f.status, f.error FROM attachment_manifest m "
        "LEFT JOIN attachment_files f ON f.attachment_id = m.attachment_id "
        f"WHERE {in_hirers('m.hirer_id')}",
        [list(hirer_ids)],
    )
    known = frame["status"].isin(["stored", "on_demand"])  # a file, or its facts (on demand)
    missing = frame["status"].isna() | (~known & frame["error"].isna())
    return _per_hirer(frame, hirer_ids, missing, "status")


def _sha256(blobs: BlobStore, key: str) -> str:
    digest = hashlib.sha256()
    with blobs.fs.open(blobs.path(key), "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def blobs_match(
    db: Reader,
    blobs: BlobStore,
    hirer_ids: Sequence[str],
    *,
    since: datetime | None = None,
    rehash: bool = True,
) -> dict[str, CheckOutcome]:
    """Every stored file's blob (downloaded `since`, if given) exists under its hirer's own
    prefix and (with `rehash`) hashes to its SHA-256. Without `rehash` only presence and prefix
    are checked: right after a download the content address was computed from the bytes."""
    frame = db.query(
        "SELECT hirer_id, attachment_id, sha256, blob_uri FROM attachment_files "
        f"WHERE {in_hirers()} AND status = 'stored' AND downloaded_at >= ?",
        [list(hirer_ids), since or EPOCH],
    )
    out = {}
    for hirer_id in hirer_ids:
        bad: list[str] = []
        counts = {"checked": 0, "wrong_hash": 0, "missing_blob": 0, "other_hirer_prefix": 0}
        mine = frame[frame["hirer_id"] == hirer_id]
        for attachment_id, sha256, key in mine[["attachment_id", "sha256", "blob_uri"]].itertuples(
            index=False
        ):
            counts["checked"] += 1
            problem = None
            if not blobs.is_hirers(hirer_id, str(key)):
                problem = "other_hirer_prefix"
            elif not blobs.exists(key):
                problem = "missing_blob"
            elif rehash and _sha256(blobs, key) != sha256:
                problem = "wrong_hash"
            if problem:
                counts[problem] += 1
                bad.append(attachment_id)
        out[hirer_id] = CheckOutcome(not bad, len(bad), counts, bad[:5])
    return out


_SETTLED = sql_literals(SETTLED)  # a stored file with no upload in these is still on its way
_NOT_SENT = sql_literals(NOT_SENT)


def unsettled_uploads(
    db: Reader, hirer_ids: Sequence[str], warn_after: timedelta
) -> dict[str, CheckOutcome]:
    """The hirer's stored files not yet settled in its ATS (not pushed, pending or accepted), by
    state, and how long the oldest has waited since it was stored; fails past `warn_after`. An
    age, not a freshness expectation: a quiet hirer has nothing waiting and passes."""
    frame = db.query(
        "SELECT f.hirer_id, f.attachment_id, COALESCE(u.state, 'not_pushed') AS state, "
        "f.downloaded_at AS since FROM attachment_files f "
        "LEFT JOIN ats_uploads u ON u.attachment_id = f.attachment_id "
        f"WHERE {in_hirers('f.hirer_id')} AND f.status IN ('stored', 'on_demand') AND NOT EXISTS ("
        "SELECT 1 FROM ats_uploads d WHERE d.attachment_id = f.attachment_id "
        f"AND d.state IN ({_SETTLED})) ORDER BY since",
        [list(hirer_ids)],
    )
    now = datetime.now(UTC)
    out = {}
    for hirer_id in hirer_ids:
        mine = frame[frame["hirer_id"] == hirer_id]
        oldest = mine["since"].min() if not mine.empty else None
        minutes = (now - oldest).total_seconds() / 60 if oldest is not None else 0.0
        late = mine[mine["since"] < now - warn_after]
        counts = {str(k): int(n) for k, n in mine["state"].value_counts().items()}
        out[hirer_id] = CheckOutcome(
            late.empty,
            len(late),
            counts,
            list(late["attachment_id"][:5]),
            {
                "oldest_unsettled_minutes": round(minutes, 1),
                "warn_after_minutes": warn_after.total_seconds() / 60,
            },
        )
    return out


def not_sent(db: Reader, hirer_ids: Sequence[str]) -> dict[str, CheckOutcome]:
    """Uploads `rejected` (never sent) or `failed` (given up), counted by state and reason; only
    those that need a person fail: a refusal final by design (`refusals.py`) is counted, not
    failing (measure `final_by_design`)."""
    frame = db.query(
        "SELECT hirer_id, attachment_id, state, COALESCE(last_error, 'no reason recorded') AS "
        f"reason FROM ats_uploads WHERE {in_hirers()} AND state IN ({_NOT_SENT}) "
        "ORDER BY attachment_id",
        [list(hirer_ids)],
    )
    kinds = [final_refusal(s, r) for s, r in zip(frame["state"], frame["reason"], strict=True)]
    final = pd.Series([k is not None for k in kinds], index=frame.index, dtype=bool)
    label = pd.Series([f" ({k}, final)" if k else "" for k in kinds], index=frame.index, dtype=str)
    out = {}
    for hirer_id in hirer_ids:
        mine = frame["hirer_id"] == hirer_id
        keys = frame["state"][mine] + label[mine] + ": " + frame["reason"][mine].str.slice(0, 200)
        counts = {str(k): int(n) for k, n in keys.value_counts().items()}
        needs = frame[mine & ~final]
        out[hirer_id] = CheckOutcome(
            needs.empty,
            len(needs),
            counts,
            list(needs["attachment_id"][:5]),
            {"final_by_design": float((mine & final).sum())},
        )
    return out


def keeps_failing(failures: int, at_least: int = FAILING_AFTER) -> CheckOutcome:
    """The hirer's last passes failed, or left items failing, `at_least` times in a row."""
    return CheckOutcome(failures < at_least, int(failures >= at_least), {"failures": failures})


def no_blobs_on_demand(blobs: BlobStore, hirer_ids: Sequence[str]) -> dict[str, CheckOutcome]:
    """A hirer on demand holds no blob at all (temporary ones included); stored hirers pass."""
    out = {}
    for hirer_id in hirer_ids:
        on_demand = hirer_id in blobs.refused
        held = blobs.holds(hirer_id) if on_demand else 0
        out[hirer_id] = CheckOutcome(
            held == 0, held, {"on_demand": int(on_demand), "blobs": held}, []
        )
    return out
