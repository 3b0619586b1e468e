"""The warehouse (DuckDB): the datasets of DESIGN.md, written in short batched upserts.

Only run steps open it (DuckDB allows one read-write process per file): a connection is opened for
one batch, retried while another process holds the lock, and closed. Every row carries its hirer;
every write is an `INSERT OR REPLACE` of a whole DataFrame keyed as the table says, so re-running a
step changes nothing. Never row by row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import tenacity

from seek_sync.store.rebuild import file_lock, rebuild

log = logging.getLogger("seek_sync.store")

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

# Columns added since a table was first released: a warehouse made by an older release gets them
# on first open (CREATE TABLE IF NOT EXISTS leaves an existing table as it was).
ADDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "ats_uploads": ("sent_at TIMESTAMPTZ", "key_sent_at TIMESTAMPTZ"),
    "candidate_profiles": ("checked_at TIMESTAMPTZ",),  # last re-read for SEEK's deletions
}


# The key of each table: what `INSERT OR REPLACE` replaces on, and what a merge de-duplicates by.
KEYS: dict[str, tuple[str, ...]] = {
    "hirers": ("hirer_id",),
    "application_events": ("event_id",),
    "candidate_profiles": ("profile_id",),
    "attachment_manifest": ("attachment_id",),
    "attachment_files": ("attachment_id",),
    "ats_candidates": ("target", "hirer_id", "seek_candidate_id"),
    "ats_uploads": ("attachment_id", "target"),
}


def in_hirers(column: str = "hirer_id") -> str:
    """A filter on a list of hirer ids passed as one parameter (a Python list)."""
    return f"{column} IN (SELECT UNNEST(?::VARCHAR[]))"


def timestamp_columns(table: str) -> list[str]:
    """The TIMESTAMPTZ columns of a table (journaled rows carry them as ISO strings)."""
    return [
        part.split()[0]
        for part in TABLES[table].replace("\n", " ").split(",")
        if "TIMESTAMPTZ" in part
    ]


def _is_lock_error(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and "lock" in str(error).lower()


Opener = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


class Warehouse:
    """A DuckDB file with the seek-sync tables.

    `opener` (e.g. dagster-duckdb's `DuckDBResource.get_connection`) opens read-write connections;
    without one, `duckdb.connect` is used. Either way a locked file is waited for, with backoff.
    """

    def __init__(
        self, path: Path, *, opener: Opener | None = None, lock_timeout_seconds: float = 60.0
    ) -> None:
        self.path = Path(path)
        self.opener = opener
        self.lock_timeout_seconds = lock_timeout_seconds
        self._schema_ready = False  # tables are created once per instance, not per connection

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection; waits (with backoff) while another process holds the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_is_lock_error),
            wait=tenacity.wait_exponential_jitter(multiplier=0.05, max=2.0),
            stop=tenacity.stop_after_delay(self.lock_timeout_seconds),
            reraise=True,
        )
        opener = self.opener
        if opener is None or read_only:

            @contextmanager
            def opener() -> Iterator[duckdb.DuckDBPyConnection]:
                connection = duckdb.connect(str(self.path), read_only=read_only)
                try:
                    yield connection
                finally:
                    connection.close()

        def enter() -> tuple[AbstractContextManager[duckdb.DuckDBPyConnection], Any]:
            manager = opener()
            return manager, manager.__enter__()

        with file_lock(self.path, exclusive=False):  # never open while a purge swaps the file
            manager, connection = retrying(enter)
            try:
                if not read_only and not self._schema_ready:
                    ensure_schema(connection)
                    self._schema_ready = True
                yield connection
            finally:
                manager.__exit__(None, None, None)

    @contextmanager
    def exclusive(self, *, rewrite: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """The only connection to the file while it is held (a purge's deletions), after which
        the file is rewritten (`rewrite`) so deleted rows are gone from its bytes (`rebuild`)."""
        with file_lock(self.path, exclusive=True):
            connection = duckdb.connect(str(self.path))
            try:
                ensure_schema(connection)
                yield connection
            finally:
                connection.close()
            if rewrite:
                rebuild(self.path)

    def upsert(self, table: str, rows: pd.DataFrame | Sequence[dict[str, Any]]) -> int:
        """Insert or replace a batch of rows in one transaction; returns the row count."""
        with self.session() as session:
            return session.upsert(table, rows)

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
        with self.session() as session:
            return session.query(sql, parameters)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Several reads and writes on one short-lived connection (never across network calls:
        the file is held, and DuckDB lets one process at a time hold it)."""
        with self.connect() as connection:
            yield Session(connection)


class Session:
    """Reads and batched writes on one open connection."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
        return self.connection.execute(sql, list(parameters)).df()

    def upsert(self, table: str, rows: pd.DataFrame | Sequence[dict[str, Any]]) -> int:
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        if frame.empty:
            return 0
        return upsert(self.connection, table, frame)


def ensure_schema(connection: duckdb.DuckDBPyConnection) -> None:
    for table, columns in TABLES.items():
        connection.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
    for table, added in ADDED_COLUMNS.items():
        for column in added:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}")


def upsert(connection: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    return upsert_many(connection, {table: frame})


def upsert_many(
    connection: duckdb.DuckDBPyConnection,
    frames: dict[str, pd.DataFrame],
    *,
    before_commit: Callable[[], None] | None = None,
) -> int:
    """Insert or replace several tables' batches in one transaction; returns the row count."""
    for table, frame in frames.items():
        if table not in TABLES:
            raise ValueError(f"unknown table {table}")
        if "hirer_id" not in frame.columns or frame["hirer_id"].isna().any():
            raise ValueError(f"every {table} row must carry its hirer_id")
    for table, frame in frames.items():
        connection.register(f"batch_{table}", frame)
    try:
        connection.execute("BEGIN")
        try:
            for table, frame in frames.items():
                columns = ", ".join(f'"{c}"' for c in frame.columns)
                connection.execute(
                    f"INSERT OR REPLACE INTO {table} ({columns}) "
                    f"SELECT {columns} FROM batch_{table}"
                )
            if before_commit is not None:
                before_commit()
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        for table in frames:
            connection.unregister(f"batch_{table}")
    return sum(len(frame) for frame in frames.values())


Reader = Warehouse | Session  # anything with .query(sql, params)


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A query's rows as dicts, missing values as None (not NaN or NaT)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # type: ignore[return-value]


def sql_literals(values: Iterable[str]) -> str:
    """Constant words (states) as a SQL list, `'a', 'b'`, sorted so a query's text is stable."""
    return ", ".join(f"'{value}'" for value in sorted(values))
