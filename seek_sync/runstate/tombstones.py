"""Purges on the inbox side: id-only tombstones that keep purged data from coming back, the inbox
rows a purge removes, and the scrub that leaves no copy of them in the database.

A tombstone is (kind, id, purge id, time): kind `profile` (one application: never again), or
`candidate` / `hirer` (events created up to the purge: a replay, a re-poll or a backfill brings
nothing back, while a later application is new data). On SQLite every connection runs with
`secure_delete`, so freed pages are zeroed, and the scrub checkpoints the WAL away and vacuums; on
PostgreSQL the scrub rewrites the tables (`VACUUM FULL`).
No Dagster here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from seek_sync.runstate.rows import InboxEvent

if TYPE_CHECKING:
    from seek_sync.db.database import Tx
    from seek_sync.runstate.inbox import Inbox

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


def buried(conn: Tx, event: InboxEvent) -> bool:
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
    """Leave no copy of the deleted rows where the database reaches them (`Database.vacuum`)."""
    inbox.database.vacuum(("events", "callbacks", "journal", "hirer_work", "tombstones"))


FIELDS = ("kind", "id", "purge_id", "purged_at")


def tombstones(inbox: Inbox) -> list[dict[str, Any]]:
    """Every tombstone (ids and times only), in a stable order."""
    rows = inbox.read(f"SELECT {', '.join(FIELDS)} FROM tombstones ORDER BY purged_at, kind, id")
    return [dict(zip(FIELDS, (r[f] for f in FIELDS), strict=True)) for r in rows]


def restore(inbox: Inbox, rows: Iterable[dict[str, Any]]) -> int:
    """Tombstones saved before a restore, back in the inbox: a known one keeps the later of its
    two purges (it covers more). Returns how many were new or moved later."""
    values = [tuple(str(row[f]) for f in FIELDS) for row in rows]
    for kind, *_ in values:
        if kind not in ("hirer", "candidate", "profile"):
            raise ValueError(f"not a tombstone kind: {kind!r}")
    with inbox.transaction() as conn:
        return conn.executemany(
            "INSERT INTO tombstones (kind, id, purge_id, purged_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET purge_id = excluded.purge_id, "
            "purged_at = excluded.purged_at WHERE excluded.purged_at > tombstones.purged_at",
            values,
        )


_COVERED_EVENTS = (
    "SELECT e.seq, e.event_id, e.type_code, e.source, e.hirer_id, e.profile_id, e.candidate_id, "
    "e.created_at FROM events e WHERE EXISTS (SELECT 1 FROM tombstones t WHERE "
    "(t.kind = 'profile' AND t.id = e.profile_id) OR (t.kind = 'candidate' AND "
    "t.id = e.candidate_id) OR (t.kind = 'hirer' AND t.id = e.hirer_id))"
)


def erase_buried(inbox: Inbox, *, dry_run: bool = False) -> dict[str, int]:
    """Delete (or count) the inbox events a tombstone covers (`buried`: what the inbox would
    refuse today), e.g. after a restore brought them back; returns {hirer: events}."""
    by_hirer: dict[str, int] = {}
    with inbox.transaction() as conn:
        doomed = []
        for row in conn.execute(_COVERED_EVENTS).fetchall():
            event = InboxEvent(**{k: row[k] for k in InboxEvent.__dataclass_fields__ if k != "raw"})
            if buried(conn, event):
                doomed.append(row["seq"])
                by_hirer[event.hirer_id] = by_hirer.get(event.hirer_id, 0) + 1
        for start in range(0, 0 if dry_run else len(doomed), 10_000):
            chunk = doomed[start : start + 10_000]
            conn.execute(f"DELETE FROM events WHERE seq IN ({','.join('?' * len(chunk))})", chunk)
    return by_hirer
