"""The journal: each outside call's outcome, written to the inbox database as it returns, merged
into the warehouse.

A run step records every outcome (profile fetched, file stored, candidate resolved, upload
accepted ...) as a whole warehouse row in the `journal` table of the inbox database the moment the
call returns (fenced: only while the run still holds the row's hirer); the database takes many
writers at once and a row survives the process being killed. Journal seqs commit in order
(`serialise`). `merge` moves every journaled row into the warehouse in one warehouse transaction
and then deletes them. Merges hold the database's `journal-merge` lock (one process at a time, on
any machine), so rows apply in journal order and a newer row is never overwritten by an older
one. A kill during a merge leaves the rows in the journal; merging them again writes the same rows
(an upsert), so the next run simply merges first. No Dagster here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.ledger import Fence
from seek_sync.runstate.rows import utc_now
from seek_sync.store.warehouse import KEYS, Warehouse, timestamp_columns
from seek_sync.testhooks import MERGE_BEFORE_COMMIT, kill_point

_MERGE_LOCK = threading.Lock()  # DuckDB shares one database between a process's connections


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot journal a {type(value).__name__}")


def _frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).drop_duplicates(subset=list(KEYS[table]), keep="last")
    for column in timestamp_columns(table):
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


class Journal:
    """Outcomes not yet in the warehouse, in the inbox database."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.fence: Fence | None = None  # set while a run writes: it must still hold its hirers

    def record(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Journal whole warehouse rows of `table` (each with its hirer_id) in one transaction."""
        self.record_tables({table: rows})

    def record_tables(self, batches: dict[str, Sequence[dict[str, Any]]]) -> None:
        """Journal rows of several tables in one transaction (all of them or none)."""
        unknown = set(batches) - set(KEYS)
        if unknown:
            raise ValueError(f"unknown table {sorted(unknown)[0]}")
        now = utc_now()
        values = [
            (row["hirer_id"], table, json.dumps(row, default=_json_default), now)
            for table, rows in batches.items()
            for row in rows
        ]
        if not values:
            return
        with self.inbox.transaction() as conn:
            if self.fence is not None:
                self.fence(conn, {hirer_id for hirer_id, *_ in values})
            conn.serialise("journal")
            conn.executemany(
                "INSERT INTO journal (hirer_id, tbl, row_json, at) VALUES (?, ?, ?, ?)", values
            )

    def pending(self, hirer_id: str | None = None) -> int:
        """Rows journaled and not yet merged (of one hirer, or of all)."""
        where, args = ("WHERE hirer_id = ?", (hirer_id,)) if hirer_id else ("", ())
        return int(self.inbox.read(f"SELECT COUNT(*) AS n FROM journal {where}", args)[0]["n"])

    def merge(self, warehouse: Warehouse) -> int:
        """Every journaled row into the warehouse, in one transaction; returns rows merged."""
        lock = self.inbox.database.exclusive("journal-merge")
        with _MERGE_LOCK, lock, warehouse.session() as session:
            rows = self.inbox.read("SELECT seq, tbl, row_json FROM journal ORDER BY seq")
            if not rows:
                return 0
            by_table: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                by_table.setdefault(row["tbl"], []).append(json.loads(row["row_json"]))
            frames = {table: _frame(table, batch) for table, batch in by_table.items()}
            session.upsert_many(frames, before_commit=lambda: kill_point(MERGE_BEFORE_COMMIT))
            last = rows[-1]["seq"]
        with self.inbox.transaction() as conn:
            conn.execute("DELETE FROM journal WHERE seq <= ?", (last,))
        return len(rows)
