"""The durable inbox: SEEK events, ATS callbacks and polling cursors, in the run-state database.

Every outside input lands here first. Rows get an ever-increasing `seq` (never reused) and are
de-duplicated by their id (`ON CONFLICT DO NOTHING`). Several processes, on one machine or many,
may write at once: the database (`seek_sync.db.database`: SQLite embedded, PostgreSQL on a server)
makes each write one transaction, and writers that hand out seqs are serialised, so a reader of
"rows after seq N" never passes a row that commits later. No Dagster here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Self

from seek_sync.db.database import Database, SqliteDatabase, Tx
from seek_sync.ids import check_hirer_id
from seek_sync.runstate.rows import (
    CALLBACK_FIELDS,
    EVENT_FIELDS,
    INSERT_CALLBACK,
    INSERT_EVENT,
    ROW_COLUMNS,
    SELECT_CALLBACKS,
    SELECT_EVENTS,
    UNKNOWN_HIRER,
    HirerPending,
    InboxCallback,
    InboxEvent,
    StoredCallback,
    StoredEvent,
    check_hirers,
    from_row,
    sql_limit,
    to_row,
    utc_now,
)
from seek_sync.runstate.schema import ensure_inbox_schema
from seek_sync.runstate.tombstones import buried

__all__ = [
    "UNKNOWN_HIRER",
    "HirerPending",
    "Inbox",
    "InboxCallback",
    "InboxEvent",
    "StoredCallback",
    "StoredEvent",
]


class Inbox:
    """The inbox in `database` (a path: an embedded SQLite file); safe to share between threads
    and processes, and pickles as where it lives. Build it with `seek_sync.backend.open_inbox`."""

    def __init__(self, database: Database | str | os.PathLike[str]) -> None:
        if not isinstance(database, Database):
            database = SqliteDatabase(database)
        self.database = database
        ensure_inbox_schema(database)

    @classmethod
    def open(cls, database: Database | str | os.PathLike[str]) -> Self:
        return cls(database)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.database,))

    def __repr__(self) -> str:
        return f"Inbox({self.database!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections this inbox's database opened (it reopens on next use)."""
        self.database.close()

    def transaction(self) -> AbstractContextManager[Tx]:
        return self.database.transaction()  # type: ignore[return-value]

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.database.read(sql, params)

    # --- events ----------------------------------------------------------------------------

    def add_events(
        self, events: Sequence[InboxEvent], *, cursor: tuple[str, str] | None = None
    ) -> int:
        """Store new events (known ids are ignored) and, if given, the cursor, in one transaction.

        Returns how many were new. Any error (a bad hirer id, say) stores nothing, cursor included.
        """
        check_hirers(events)
        received_at = utc_now()
        with self.transaction() as conn:
            kept = [e for e in events if not buried(conn, e)]  # purged data never comes back
            conn.serialise("events")
            rows = (to_row(e, EVENT_FIELDS, received_at) for e in kept)
            added = conn.executemany(INSERT_EVENT, rows)
            if cursor is not None:
                self._set_cursor(conn, *cursor)
        return added

    def get_cursor(self, name: str) -> str | None:
        rows = self.read("SELECT value FROM cursors WHERE name = ?", (name,))
        return rows[0]["value"] if rows else None

    def set_cursor(self, name: str, value: str) -> None:
        self.set_cursors({name: value})

    def set_cursors(self, values: Mapping[str, str]) -> None:
        with self.transaction() as conn:
            for name, value in values.items():
                self._set_cursor(conn, name, value)

    @staticmethod
    def _set_cursor(conn: Tx, name: str, value: str) -> None:
        conn.execute(
            "INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (name, value, utc_now()),
        )

    def events_after(self, seq: int, limit: int | None = None) -> list[StoredEvent]:
        """Events with a seq above `seq`, in ascending seq order."""
        rows = self.read(
            f"{SELECT_EVENTS} WHERE seq > ? ORDER BY seq LIMIT ?", (seq, sql_limit(limit))
        )
        return [from_row(StoredEvent, r) for r in rows]

    def max_seq(self, table: Literal["events", "callbacks"] = "events") -> int:
        return int(self.read(f"SELECT COALESCE(MAX(seq), 0) AS m FROM {table}")[0]["m"])

    def pending_by_hirer(
        self, after_seq: int, table: Literal["events", "callbacks"] = "events"
    ) -> dict[str, HirerPending]:
        """Per hirer (`unknown_hirer` included), rows past `after_seq`: one consistent read."""
        rows = self.read(
            f"SELECT hirer_id, COUNT(*) AS n, MAX(seq) AS m FROM {table} WHERE seq > ? "
            "GROUP BY hirer_id ORDER BY hirer_id",
            (after_seq,),
        )
        return {r["hirer_id"]: HirerPending(count=r["n"], max_seq=r["m"]) for r in rows}

    def pending_hirer_counts(self, after_seq: int) -> dict[str, int]:
        """Hirer (`unknown_hirer` included) -> number of events with a seq above `after_seq`."""
        return {h: p.count for h, p in self.pending_by_hirer(after_seq).items()}

    def events_for_hirer(
        self,
        hirer_id: str,
        after_seq: int = 0,
        limit: int | None = None,
        *,
        upto_seq: int | None = None,
    ) -> list[StoredEvent]:
        """One hirer's events with `after_seq < seq <= upto_seq`, in ascending seq order."""
        rows = self.read(
            f"{SELECT_EVENTS} WHERE hirer_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            (
                hirer_id,
                after_seq,
                upto_seq if upto_seq is not None else 2**63 - 1,
                sql_limit(limit),
            ),
        )
        return [from_row(StoredEvent, r) for r in rows]

    def hirers_with_events(self, after_seq: int, type_code: str) -> list[str]:
        """Hirers with an event of `type_code` past `after_seq`."""
        rows = self.read(
            "SELECT DISTINCT hirer_id FROM events WHERE seq > ? AND type_code = ? ORDER BY 1",
            (after_seq, type_code),
        )
        return [r["hirer_id"] for r in rows]

    def cursors(self, prefix: str) -> dict[str, str]:
        """Every cursor whose name starts with `prefix` (prefix removed) -> its value."""
        rows = self.read(
            "SELECT name, value FROM cursors WHERE substr(name, 1, ?) = ?", (len(prefix), prefix)
        )
        return {r["name"][len(prefix) :]: r["value"] for r in rows}

    def unknown_hirer_events(self, limit: int = 1000) -> list[StoredEvent]:
        return self.events_for_hirer(UNKNOWN_HIRER, 0, limit)

    def resolve_hirer(self, event_id: str, hirer_id: str) -> bool:
        """Give an `unknown_hirer` event its hirer and a new seq, so readers past it see it again.

        Returns False when the event is missing or already has a hirer.
        """
        if hirer_id == UNKNOWN_HIRER:
            raise ValueError("resolve_hirer needs a real hirer id")
        check_hirer_id(hirer_id)
        with self.transaction() as conn:
            row = conn.execute(
                f"{SELECT_EVENTS} WHERE event_id = ? AND hirer_id = ?", (event_id, UNKNOWN_HIRER)
            ).fetchone()
            if row is None:
                return False
            conn.serialise("events")
            conn.execute("DELETE FROM events WHERE seq = ?", (row["seq"],))
            # Re-inserted, not updated: AUTOINCREMENT hands out a new, higher seq.
            values = {**dict(row), "hirer_id": hirer_id}
            conn.execute(INSERT_EVENT, [values[c] for c in ROW_COLUMNS])
        return True

    # --- callbacks -------------------------------------------------------------------------

    def add_callbacks(self, callbacks: Sequence[InboxCallback]) -> int:
        """Store new callbacks (known callback ids are ignored); returns how many were new."""
        check_hirers(callbacks)
        received_at = utc_now()
        with self.transaction() as conn:
            conn.serialise("callbacks")
            rows = (to_row(c, CALLBACK_FIELDS, received_at) for c in callbacks)
            return conn.executemany(INSERT_CALLBACK, rows)

    def callbacks_after(
        self, seq: int, target: str | None = None, limit: int | None = None
    ) -> list[StoredCallback]:
        """Callbacks with a seq above `seq` (optionally of one target), in ascending seq order."""
        where, params = "seq > ?", [seq]
        if target is not None:
            where, params = "target = ? AND seq > ?", [target, seq]
        rows = self.read(
            f"{SELECT_CALLBACKS} WHERE {where} ORDER BY seq LIMIT ?", (*params, sql_limit(limit))
        )
        return [from_row(StoredCallback, r) for r in rows]

    def callbacks_for_hirer(self, hirer_id: str, target: str) -> list[StoredCallback]:
        """Every callback of one target for one hirer, in ascending seq order."""
        rows = self.read(
            f"{SELECT_CALLBACKS} WHERE hirer_id = ? AND target = ? ORDER BY seq",
            (hirer_id, target),
        )
        return [from_row(StoredCallback, r) for r in rows]

    # --- overview --------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Row counts: events, callbacks and events still waiting for their hirer."""
        row = self.read(
            "SELECT (SELECT COUNT(*) FROM events) AS events, "
            "(SELECT COUNT(*) FROM callbacks) AS callbacks, "
            "(SELECT COUNT(*) FROM events WHERE hirer_id = ?) AS unknown_hirer",
            (UNKNOWN_HIRER,),
        )[0]
        return dict(row)
