"""Purges on the inbox side: id-only tombstones that keep purged data from coming back, the inbox
rows a purge removes, and the scrub that leaves no copy of them in the SQLite file.

A tombstone is (kind, id, purge id, time): kind `profile` (one application: never again), or
`candidate` / `hirer` (events created up to the purge: a replay, a re-poll or a backfill brings
nothing back, while a later application is new data). Every connection runs with
`secure_delete`, so freed pages are zeroed; the scrub then checkpoints the WAL away and vacuums.
No Dagster here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seek_sync.runstate.inbox import Inbox
    from seek_sync.runstate.rows import InboxEvent

TOMBSTONES = """
CREATE TABLE IF NOT EXISTS tombstones (
    kind TEXT NOT NULL CHECK (kind IN ('hirer', 'candidate', 'profile')), id TEXT NOT NULL,
    purge_id TEXT NOT NULL, purged_at TEXT NOT NULL, PRIMARY KEY (kind, id))"""

_LOOKUP = (
    "SELECT kind, purged_at FROM tombstones WHERE (kind = 'profile' AND id = ?) "
    "OR (kind = 'candidate' AND id = ?) OR (kind = 'hirer' AND id = ?)"
)


def _moment(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def buried(conn: sqlite3.Connection, event: InboxEvent) -> bool:
    """Whether a tombstone covers the event (an undated event under a candidate or hirer
    tombstone counts as covered: never guess in favour of bringing data back)."""
    rows = conn.execute(
        _LOOKUP, (event.profile_id or "", event.candidate_id or "", event.hirer_id)
    ).fetchall()
    created = _moment(event.created_at)
    for kind, purged_at in rows:
        purged = _moment(purged_at)
        if kind == "profile" or created is None or purged is None or created <= purged:
            return True
    return False


def bury(
    inbox: Inbox,
    purge_id: str,
    *,
    hirer_id: str | None,
    candidate_ids: Sequence[str],
    profile_ids: Sequence[str],
) -> None:
    """Tombstones for what a purge removed (a hirer purge buries the hirer)."""
    now = datetime.now(UTC).isoformat()
    rows = [("profile", p) for p in profile_ids] + [("candidate", c) for c in candidate_ids]
    if hirer_id:
        rows.append(("hirer", hirer_id))
    with inbox.transaction() as conn:
        conn.executemany(
            "INSERT INTO tombstones (kind, id, purge_id, purged_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET purge_id = excluded.purge_id, "
            "purged_at = excluded.purged_at",
            [(kind, id_, purge_id, now) for kind, id_ in rows],
        )


def erase(
    inbox: Inbox,
    *,
    hirer_id: str | None,
    profile_ids: Sequence[str],
    candidate_ids: Sequence[str],
    dry_run: bool = False,
) -> dict[str, int]:
    """Delete (or count) the inbox rows of a purge: a hirer's events, callbacks, journal and work
    state; or the events of the given profiles and candidates. Returns counts per table."""
    profiles, candidates = list(profile_ids), list(candidate_ids)
    ids = ",".join("?" * len(profiles)) or "NULL"
    cands = ",".join("?" * len(candidates)) or "NULL"
    plan: list[tuple[str, str, Sequence[str]]] = [
        ("events", f"profile_id IN ({ids}) OR candidate_id IN ({cands})", profiles + candidates)
    ]
    if hirer_id:
        plan = [
            (table, "hirer_id = ?", [hirer_id])
            for table in ("events", "callbacks", "journal", "hirer_work")
        ]
    counts: dict[str, int] = {}
    with inbox.transaction() as conn:
        for table, where, params in plan:
            (count,) = conn.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {where}", params
            ).fetchone()
            counts[f"inbox.{table}"] = int(count)
            if not dry_run and count:
                conn.execute(f"DELETE FROM {table} WHERE {where}", params)
    return counts


def scrub(inbox: Inbox) -> None:
    """Leave no copy of deleted rows in the file or its WAL: checkpoint, vacuum, truncate."""
    conn = inbox.connection()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
