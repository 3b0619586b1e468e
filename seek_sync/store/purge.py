"""What a purge removes from the warehouse, found and deleted in one session (run steps only).

A purge is selected by hirer, by SEEK candidate id, or by email (every candidate with that address,
across hirers): it finds the profiles, their events, manifests, files (and the blobs only they
use) and the ATS state, deletes those rows, and writes an audit row of ids and counts only (no
name, email or file name: `purges`). Dagster-free; `pipeline/purge.py` drives it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from seek_sync.store.sql import IN_LIST, json_texts_contain
from seek_sync.store.warehouse import Reader, Session

__all__ = ["IN_LIST", "Found", "Selector", "delete", "find"]

EMAILS = "$.candidate.person.communication.email[*].address"


@dataclass(frozen=True)
class Selector:
    """One of: a hirer, a SEEK candidate (optionally within one hirer), an email address, or
    some applications by profile id (SEEK deleted them, or retention says they go)."""

    hirer_id: str | None = None
    candidate_id: str | None = None
    email: str | None = None
    profile_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        chosen = [v for v in (self.candidate_id, self.email, self.profile_ids) if v]
        if len(chosen) > 1 or not (chosen or self.hirer_id):
            raise ValueError("choose one: a hirer, a candidate id, an email address or profiles")

    @property
    def kind(self) -> str:
        if self.profile_ids:
            return "profiles"
        return "email" if self.email else "candidate" if self.candidate_id else "hirer"


@dataclass
class Found:
    """The ids a purge removes (ids only: this is what the audit row and tombstones keep)."""

    kind: str
    hirer_ids: list[str] = field(default_factory=list)
    candidate_ids: list[str] = field(default_factory=list)
    profile_ids: list[str] = field(default_factory=list)
    attachment_ids: list[str] = field(default_factory=list)
    blobs: list[tuple[str, str]] = field(
        default_factory=list
    )  # (hirer, sha256) used by no one else
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def whole_hirer(self) -> bool:
        return self.kind == "hirer"


def _ids(db: Reader, sql: str, params: Sequence[Any]) -> list[str]:
    frame = db.query(sql, params)
    return sorted({str(v) for v in frame.iloc[:, 0].dropna()}) if not frame.empty else []


def find(db: Reader, selector: Selector) -> Found:
    """The rows the selector names, and the blobs nothing else refers to."""
    found = Found(selector.kind)
    hirer_filter = "AND hirer_id = ?" if selector.hirer_id else ""
    hirer_param = [selector.hirer_id] if selector.hirer_id else []
    if selector.kind == "hirer":
        where, params = "hirer_id = ?", [selector.hirer_id]
        found.hirer_ids = [str(selector.hirer_id)]
    elif selector.kind == "profiles":  # the applications only: the candidate may have others
        where, params = (
            f"profile_id IN {IN_LIST} {hirer_filter}",
            [selector.profile_ids, *hirer_param],
        )
        found.hirer_ids = _ids(db, f"SELECT hirer_id FROM candidate_profiles WHERE {where}", params)
    else:
        if selector.email:
            found.candidate_ids = _ids(
                db,
                "SELECT DISTINCT COALESCE(candidate_id, profile_id) FROM candidate_profiles "
                f"WHERE {json_texts_contain(db.dialect, 'raw_json', EMAILS)} {hirer_filter}",
                [selector.email, *hirer_param],
            )
        else:
            found.candidate_ids = [str(selector.candidate_id)]
        where = f"COALESCE(candidate_id, profile_id) IN {IN_LIST} {hirer_filter}"
        params = [found.candidate_ids, *hirer_param]
        found.hirer_ids = _ids(
            db, f"SELECT hirer_id FROM candidate_profiles WHERE {where}", params
        ) or sorted(set(hirer_param))
    stored = _ids(db, f"SELECT profile_id FROM candidate_profiles WHERE {where}", params)
    polled = _ids(db, f"SELECT profile_id FROM application_events WHERE {where}", params)
    found.profile_ids = sorted({*stored, *polled})  # an event whose profile is not fetched yet
    found.attachment_ids = _ids(
        db,
        f"SELECT attachment_id FROM attachment_manifest WHERE profile_id IN {IN_LIST}",
        [found.profile_ids],
    )
    if found.whole_hirer:
        found.attachment_ids = _ids(
            db, "SELECT attachment_id FROM attachment_files WHERE hirer_id = ?", params
        )
    found.blobs = [
        (str(h), str(s))
        for h, s in db.query(
            "SELECT DISTINCT f.hirer_id, f.sha256 FROM attachment_files f "
            f"WHERE f.attachment_id IN {IN_LIST} AND f.sha256 IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM attachment_files o WHERE o.hirer_id = f.hirer_id "
            f"AND o.sha256 = f.sha256 AND o.attachment_id NOT IN {IN_LIST})",
            [found.attachment_ids, found.attachment_ids],
        ).itertuples(index=False)
    ]
    return found


def _deletions(found: Found) -> list[tuple[str, str, list[Any]]]:
    """(table, WHERE clause, parameters) for every row the purge removes."""
    if found.whole_hirer:
        return [(t, "hirer_id = ?", [found.hirer_ids[0]]) for t in TABLES_OF_A_HIRER]
    profiles, attachments = [found.profile_ids], [found.attachment_ids]
    rows = [
        ("application_events", f"profile_id IN {IN_LIST}", profiles),
        ("candidate_profiles", f"profile_id IN {IN_LIST}", profiles),
        ("attachment_manifest", f"attachment_id IN {IN_LIST}", attachments),
        ("attachment_files", f"attachment_id IN {IN_LIST}", attachments),
        ("ats_uploads", f"attachment_id IN {IN_LIST}", attachments),
    ]
    if (
        found.candidate_ids
    ):  # a whole candidate goes: their ATS record too (a profile purge keeps it)
        where = f"seek_candidate_id IN {IN_LIST} AND hirer_id IN {IN_LIST}"
        rows.append(("ats_candidates", where, [found.candidate_ids, found.hirer_ids]))
    return rows


TABLES_OF_A_HIRER = (
    "application_events",
    "candidate_profiles",
    "attachment_manifest",
    "attachment_files",
    "ats_uploads",
    "ats_candidates",
    "hirers",
)


def audit(
    db: Session, purge_id: str, found: Found, *, reason: str | None, dry_run: bool = False
) -> None:
    """The audit row of a purge (ids and counts only: the `purges` table), in the caller's
    transaction."""
    db.execute(
        "INSERT INTO purges VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            purge_id,
            datetime.now(UTC),
            found.kind,
            reason,
            dry_run,
            json.dumps(found.hirer_ids),
            json.dumps(found.candidate_ids),
            json.dumps(found.counts, sort_keys=True),
        ],
    )


def forget_documents(db: Session, hirer_id: str) -> int:
    """A hirer switched to on demand: its stored files become `on_demand` (facts kept, blob
    gone), audited as a purge is, in one transaction; returns how many files it held."""
    where = "hirer_id = ? AND status = 'stored'"
    count = int(db.scalar(f"SELECT COUNT(*) FROM attachment_files WHERE {where}", [hirer_id]))
    if not count:
        return 0
    with db.transaction():
        db.execute(
            f"UPDATE attachment_files SET status = 'on_demand', blob_uri = NULL WHERE {where}",
            [hirer_id],
        )
        found = Found(kind="on_demand", hirer_ids=[hirer_id], counts={"blobs": count})
        audit(db, "purge-" + uuid.uuid4().hex[:16], found, reason="switched to on demand")
    return count


def delete(db: Session, found: Found, *, reason: str | None, dry_run: bool) -> str:
    """Count (and unless `dry_run`, delete) the found rows and write the audit row (the
    `purges` table of the warehouse schema), in one transaction; returns the purge id."""
    purge_id = "purge-" + uuid.uuid4().hex[:16]
    with db.transaction():
        for table, where, params in _deletions(found):
            count = int(db.scalar(f"SELECT COUNT(*) FROM {table} WHERE {where}", params))
            found.counts[table] = count
            if not dry_run and count:
                db.execute(f"DELETE FROM {table} WHERE {where}", params)
        found.counts["blobs"] = len(found.blobs)
        audit(db, purge_id, found, reason=reason, dry_run=dry_run)
    return purge_id
