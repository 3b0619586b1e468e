"""The warehouse: the datasets of DESIGN.md, written in short batched upserts, behind one interface.

Two implementations: `warehouse_duckdb` (a file; the embedded default) and `warehouse_postgres`
(a schema of a PostgreSQL database; the server backend). `seek_sync.backend.open_warehouse`
chooses by settings; the pipeline stages only see `Warehouse` and `Session`.

Only run steps open it: a session lasts one short batch, never across network calls. Every row
carries its hirer; every write replaces whole rows by the table's key, so re-running a step changes
nothing. Never row by row. Queries are written once, with `?` parameters, in the SQL both
dialects accept (`store.sql` holds what they spell differently).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import pandas as pd

from seek_sync.store.sql import IN_LIST, Dialect, in_hirers, sql_literals

__all__ = ["IN_LIST", "in_hirers", "sql_literals"]  # re-exported: callers import them from here

TABLES: dict[str, str] = {
    "hirers": """
        hirer_id VARCHAR PRIMARY KEY, name VARCHAR, relationship VARCHAR, target VARCHAR,
        added_at TIMESTAMPTZ, removed_at TIMESTAMPTZ""",
    "application_events": """
        event_id VARCHAR PRIMARY KEY, hirer_id VARCHAR NOT NULL, type_code VARCHAR NOT NULL,
        source VARCHAR NOT NULL, profile_id VARCHAR, candidate_id VARCHAR,
        created_at VARCHAR, inbox_seq BIGINT, raw_json VARCHAR NOT NULL""",
    "candidate_profiles": """
        profile_id VARCHAR PRIMARY KEY, hirer_id VARCHAR NOT NULL, candidate_id VARCHAR,
        job_reference VARCHAR, created_at TIMESTAMPTZ, status VARCHAR NOT NULL, error VARCHAR,
        attachments INTEGER, raw_json VARCHAR, fetched_at TIMESTAMPTZ NOT NULL,
        checked_at TIMESTAMPTZ""",
    "attachment_manifest": """
        attachment_id VARCHAR PRIMARY KEY, hirer_id VARCHAR NOT NULL, profile_id VARCHAR NOT NULL,
        role VARCHAR, url VARCHAR NOT NULL, descriptions VARCHAR""",
    "attachment_files": """
        attachment_id VARCHAR PRIMARY KEY, hirer_id VARCHAR NOT NULL, sha256 VARCHAR,
        bytes BIGINT, declared_type VARCHAR, sniffed_type VARCHAR, safe_filename VARCHAR,
        blob_uri VARCHAR, status VARCHAR NOT NULL, error VARCHAR, downloaded_at TIMESTAMPTZ""",
    "ats_candidates": """
        target VARCHAR NOT NULL, hirer_id VARCHAR NOT NULL, seek_candidate_id VARCHAR NOT NULL,
        state VARCHAR NOT NULL, ats_id VARCHAR, idempotency_key VARCHAR, error VARCHAR,
        updated_at TIMESTAMPTZ, PRIMARY KEY (target, hirer_id, seek_candidate_id)""",
    "ats_uploads": """
        attachment_id VARCHAR NOT NULL, target VARCHAR NOT NULL, hirer_id VARCHAR NOT NULL,
        state VARCHAR NOT NULL, idempotency_key VARCHAR, attempts INTEGER, failures INTEGER,
        last_error VARCHAR, ats_attachment_id VARCHAR, outcome_unknown BOOLEAN,
        updated_at TIMESTAMPTZ, sent_at TIMESTAMPTZ, key_sent_at TIMESTAMPTZ,
        PRIMARY KEY (attachment_id, target)""",
}

# Columns added to a table after its first release (before the schema was versioned): version 1
# of the warehouse schema adds them to a warehouse made by an older release.
ADDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "ats_uploads": ("sent_at TIMESTAMPTZ", "key_sent_at TIMESTAMPTZ"),
    "candidate_profiles": ("checked_at TIMESTAMPTZ",),  # last re-read for SEEK's deletions
}

# The key of each table: what an upsert replaces on, and what a batch is de-duplicated by.
KEYS: dict[str, tuple[str, ...]] = {
    "hirers": ("hirer_id",),
    "application_events": ("event_id",),
    "candidate_profiles": ("profile_id",),
    "attachment_manifest": ("attachment_id",),
    "attachment_files": ("attachment_id",),
    "ats_candidates": ("target", "hirer_id", "seek_candidate_id"),
    "ats_uploads": ("attachment_id", "target"),
}


def timestamp_columns(table: str) -> list[str]:
    """The TIMESTAMPTZ columns of a table (journaled rows carry them as ISO strings)."""
    return [
        part.split()[0]
        for part in TABLES[table].replace("\n", " ").split(",")
        if "TIMESTAMPTZ" in part
    ]


def checked_batches(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The batches to write: known tables, a hirer on every row, one row per key (the last)."""
    out = {}
    for table, frame in frames.items():
        if table not in TABLES:
            raise ValueError(f"unknown table {table}")
        if "hirer_id" not in frame.columns or frame["hirer_id"].isna().any():
            raise ValueError(f"every {table} row must carry its hirer_id")
        if not frame.empty:
            keys = [k for k in KEYS[table] if k in frame.columns]
            out[table] = frame.drop_duplicates(keys, keep="last") if keys else frame
    return out


class Session(ABC):
    """Reads and batched writes on one open connection."""

    dialect: Dialect

    @abstractmethod
    def query(self, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
        """The rows of a query as a DataFrame."""

    @abstractmethod
    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query as tuples."""

    @abstractmethod
    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        """One statement (an UPDATE or DELETE), committed unless inside `transaction()`."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together or not at all."""

    @abstractmethod
    def _write(self, table: str, frame: pd.DataFrame) -> None:
        """Insert or replace one de-duplicated batch, inside the caller's transaction."""

    def scalar(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        found = self.rows(sql, parameters)
        return found[0][0] if found else None

    def upsert(self, table: str, rows: pd.DataFrame | Sequence[dict[str, Any]]) -> int:
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        if frame.empty:
            return 0
        return self.upsert_many({table: frame})

    def upsert_many(
        self, frames: dict[str, pd.DataFrame], *, before_commit: Callable[[], None] | None = None
    ) -> int:
        """Insert or replace several tables' batches in one transaction; returns the row count."""
        batches = checked_batches(frames)
        with self.transaction():
            for table, frame in batches.items():
                self._write(table, frame)
            if before_commit is not None:
                before_commit()
        return sum(len(frame) for frame in frames.values())


class Warehouse(ABC):
    """Where the datasets live; opens a short session per batch."""

    dialect: Dialect

    @abstractmethod
    def session(self) -> AbstractContextManager[Session]:
        """Several reads and writes on one short-lived connection (never across network calls)."""

    @abstractmethod
    def exclusive(self, *, rewrite: bool = True) -> AbstractContextManager[Session]:
        """The session of a purge: no run step writes meanwhile, and afterwards (`rewrite`) the
        deleted rows are gone from the stored bytes, not only hidden."""

    @abstractmethod
    def size_bytes(self) -> int:
        """What the warehouse occupies on disk (a purge reports it)."""

    @abstractmethod
    def upgrade(self) -> list[int]:
        """Apply the schema's migrations not yet applied (`seek-sync db upgrade`)."""

    @abstractmethod
    def versions(self) -> tuple[int, int]:
        """(version applied, version this release needs) of the warehouse schema."""

    @abstractmethod
    def connect(self, *, read_only: bool = False) -> AbstractContextManager[Any]:
        """The driver's own connection (DuckDB or psycopg), for tests and the journal's merge."""

    def upsert(self, table: str, rows: pd.DataFrame | Sequence[dict[str, Any]]) -> int:
        """Insert or replace a batch of rows in one transaction; returns the row count."""
        with self.session() as session:
            return session.upsert(table, rows)

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
        with self.session() as session:
            return session.query(sql, parameters)


Reader = Warehouse | Session  # anything with .query(sql, params) and .dialect


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A query's rows as dicts, missing values as None (not NaN or NaT)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # type: ignore[return-value]
