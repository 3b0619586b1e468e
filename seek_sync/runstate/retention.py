"""Retention on the inbox side: events and callbacks past their limit, once their hirer's runs
have consumed them, removed in one transaction (on SQLite every connection runs with
`secure_delete`).

An event goes only when its hirer's passes have moved it to the warehouse (seq at or below the
hirer's `hirer_work.events_seq`); an event still waiting for its hirer (`unknown_hirer`) never
goes. A callback goes only when consumed the same way and no unsettled upload or create still
waits for its idempotency key. No Dagster here.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime

from seek_sync.runstate.inbox import UNKNOWN_HIRER, Inbox

_EVENTS = """
SELECT e.seq, e.hirer_id FROM events e JOIN hirer_work w ON w.hirer_id = e.hirer_id
WHERE e.received_at < ? AND e.hirer_id <> ? AND e.seq <= w.events_seq"""

_CALLBACKS = """
SELECT c.seq, c.hirer_id FROM callbacks c JOIN hirer_work w ON w.hirer_id = c.hirer_id
WHERE c.received_at < ? AND c.hirer_id <> ? AND c.seq <= w.callbacks_seq
  AND (c.idempotency_key IS NULL OR c.idempotency_key NOT IN ({keys}))"""


def stamp(moment: datetime) -> str:
    """A time as the inbox writes `received_at` (so the two compare as strings)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def trim(
    inbox: Inbox,
    received_before: datetime,
    *,
    keep_keys: Collection[str] = (),
    dry_run: bool = False,
) -> dict[str, dict[str, int]]:
    """Delete (or, `dry_run`, count) the consumed events and callbacks received before the
    cutoff; callbacks of `keep_keys` stay. Returns per hirer: {"events": n, "callbacks": m}."""
    cutoff, keys = stamp(received_before), json.dumps(sorted(keep_keys))
    callbacks = _CALLBACKS.format(keys=inbox.database.json_values())
    counts: dict[str, dict[str, int]] = {}
    with inbox.transaction() as conn:
        for table, sql, params in (
            ("events", _EVENTS, (cutoff, UNKNOWN_HIRER)),
            ("callbacks", callbacks, (cutoff, UNKNOWN_HIRER, keys)),
        ):
            rows = conn.execute(
                f"SELECT hirer_id, COUNT(*) AS n FROM ({sql}) AS due GROUP BY hirer_id", params
            ).fetchall()
            for row in rows:
                mine = counts.setdefault(row["hirer_id"], {"events": 0, "callbacks": 0})
                mine[table] = int(row["n"])
            if rows and not dry_run:
                conn.execute(
                    f"DELETE FROM {table} WHERE seq IN (SELECT seq FROM ({sql}) AS due)", params
                )
    return counts
