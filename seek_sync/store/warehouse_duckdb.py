"""The embedded warehouse: one DuckDB file (the default backend).

DuckDB allows one read-write process per file: a connection is opened for one batch, retried
while another process holds the lock, and closed. A purge holds the file exclusively and then
rewrites it (`store.rebuild`), so deleted rows are gone from its bytes. The schema upgrades itself
on first open (one machine, one release).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import tenacity

from seek_sync.db.migrations import On, current_version, ensure, latest
from seek_sync.store.rebuild import file_lock, rebuild
from seek_sync.store.sql import Dialect
from seek_sync.store.warehouse import Session, Warehouse
from seek_sync.store.warehouse_schema import COMPONENT, MIGRATIONS


def _is_lock_error(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and "lock" in str(error).lower()


Opener = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


def ensure_schema(connection: duckdb.DuckDBPyConnection) -> list[int]:
    """Bring the file's schema up to this release (an embedded file may always upgrade)."""
    connection.execute("BEGIN")
    try:
        applied = ensure(On("duckdb", connection), COMPONENT, MIGRATIONS, may_upgrade=True)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return applied


class DuckDBWarehouse(Warehouse):
    """A DuckDB file with the seek-sync tables.

    `opener` (e.g. dagster-duckdb's `DuckDBResource.get_connection`) opens read-write connections;
    without one, `duckdb.connect` is used. Either way a locked file is waited for, with backoff.
    """

    dialect: Dialect = "duckdb"

    def __init__(
        self, path: Path, *, opener: Opener | None = None, lock_timeout_seconds: float = 60.0
    ) -> None:
        self.path = Path(path)
        self.opener = opener
        self.lock_timeout_seconds = lock_timeout_seconds
        self._schema_ready = False  # checked once per instance, not per connection

    def __repr__(self) -> str:
        return f"DuckDBWarehouse({str(self.path)!r})"

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
    def session(self) -> Iterator[Session]:
        with self.connect() as connection:
            yield DuckDBSession(connection)

    @contextmanager
    def exclusive(self, *, rewrite: bool = True) -> Iterator[Session]:
        """The only connection to the file while it is held, after which the file is rewritten
        (`rewrite`) so deleted rows are gone from its bytes (`rebuild`)."""
        with file_lock(self.path, exclusive=True):
            connection = duckdb.connect(str(self.path))
            try:
                ensure_schema(connection)
                yield DuckDBSession(connection)
            finally:
                connection.close()
            if rewrite:
                rebuild(self.path)

    def upgrade(self) -> list[int]:
        with file_lock(self.path, exclusive=False), duckdb.connect(str(self.path)) as connection:
            return ensure_schema(connection)

    def versions(self) -> tuple[int, int]:
        with file_lock(self.path, exclusive=False), duckdb.connect(str(self.path)) as connection:
            return current_version(On("duckdb", connection), COMPONENT), latest(MIGRATIONS)

    def size_bytes(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0


class DuckDBSession(Session):
    """Reads and batched writes on one open DuckDB connection."""

    dialect: Dialect = "duckdb"

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection
        self._depth = 0
        self._registered: list[str] = []

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
        return self.connection.execute(sql, list(parameters)).df()

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, list(parameters)).fetchall()

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        self.connection.execute(sql, list(parameters))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:  # already inside one: part of it
            yield
            return
        self.connection.execute("BEGIN")
        self._depth += 1
        try:
            yield
            self.connection.execute("COMMIT")
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        finally:
            self._depth -= 1
            for name in self._registered:  # after the transaction ended (not in an aborted one)
                self.connection.unregister(name)
            self._registered.clear()

    def _write(self, table: str, frame: pd.DataFrame) -> None:
        name = f"batch_{table}"
        self.connection.register(name, frame)
        self._registered.append(name)
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        self.connection.execute(
            f"INSERT OR REPLACE INTO {table} ({columns}) SELECT {columns} FROM {name}"
        )
