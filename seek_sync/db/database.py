"""One interface to the run-state database, two implementations: SQLite (embedded) and PostgreSQL.

Callers write SQL once, with `?` placeholders, and get rows addressable by name or position (like
`sqlite3.Row`). What differs between the two lives here and in `seek_sync.db.postgres`:
transactions (`BEGIN IMMEDIATE` on SQLite, one connection from a small pool on PostgreSQL),
`serialise` for writers that hand out sequence numbers, `exclusive` for work one process at a time
does (journal merges), row-lock suffixes, presence (whether a holder still lives), vacuum, and
schema versions (`seek_sync.db.migrations`). No Dagster here.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from seek_sync.db.migrations import DialectName, Migration, On, current_version, ensure, upgrade


class Row(Protocol):
    """A result row: by column name or position, and `dict(row)` gives name -> value."""

    def __getitem__(self, key: str | int) -> Any: ...

    def keys(self) -> Iterable[str]: ...


class Cursor(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Tx(ABC):
    """One open transaction: statements with `?` placeholders, all committed or none."""

    dialect: DialectName

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run `sql` once per row; returns how many rows changed (a skipped conflict is none)."""

    def serialise(self, name: str) -> None:  # noqa: B027 (SQLite: BEGIN IMMEDIATE already is)
        """Hold `name` until this transaction ends, for writers that hand out sequence numbers:
        no transaction commits a lower seq after another committed a higher one."""


def lock_key(*parts: str) -> int:
    """A stable signed 64-bit key for an advisory lock named by `parts`."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Database(ABC):
    """Where the inbox and the run state live; safe to share between threads and processes."""

    dialect: DialectName
    row_lock = ""  # appended to a SELECT that takes the rows it reads (and skips taken ones)
    share_lock = ""  # appended to a SELECT whose rows must not change before this commits

    @abstractmethod
    def transaction(self) -> Iterator[Tx]: ...

    @abstractmethod
    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One statement outside any transaction of the caller's (or inside this thread's)."""

    @abstractmethod
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold `name` against every other process and thread while the block runs."""

    @abstractmethod
    def vacuum(self, tables: Sequence[str]) -> None:
        """Leave no copy of deleted rows where the database can reach them again."""

    @abstractmethod
    def close(self) -> None: ...

    def presence(self) -> str | None:
        """A token that names this process while it lives (None: the pid on this host serves)."""
        return None

    def present(self, token: str) -> bool | None:
        """Whether the process that took `token` still lives (None: cannot tell here)."""
        return None

    def json_values(self) -> str:
        """A subquery of the text values of a JSON array passed as one `?` parameter."""
        return "SELECT value FROM json_each(?)"

    # --- schema versions --------------------------------------------------------------------

    may_upgrade = True  # an embedded file upgrades itself; a shared server only on request

    def tables_exist(self, tx: Tx, tables: Sequence[str]) -> bool:
        marks = ",".join("?" * len(tables))
        sql = f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ({marks})"
        return bool(tx.execute(sql, tables).fetchone()[0])

    def _schema_lock(self, tx: Tx) -> None:  # noqa: B027
        """Held while a schema is read or changed (BEGIN IMMEDIATE already is, on SQLite)."""

    def ensure_schema(
        self, component: str, migrations: Sequence[Migration], tables: Sequence[str]
    ) -> list[int]:
        """Use `component`'s schema if current; create or upgrade it where allowed; else refuse
        with one line (`SchemaError`). Checked once per object (a process shares its server one)."""
        ensured: set[str] = self.__dict__.setdefault("ensured", set())
        if component in ensured:
            return []
        with self.transaction() as tx:
            self._schema_lock(tx)
            applied = ensure(
                On(self.dialect, tx),
                component,
                migrations,
                may_upgrade=self.may_upgrade,
                is_empty=lambda: not self.tables_exist(tx, tables),
            )
        ensured.add(component)
        return applied

    def upgrade_schema(self, component: str, migrations: Sequence[Migration]) -> list[int]:
        """Apply `component`'s missing migrations under the database's lock (`db upgrade`)."""
        with self.transaction() as tx:
            self._schema_lock(tx)
            return upgrade(On(self.dialect, tx), component, migrations)

    def schema_version(self, component: str) -> int:
        with self.transaction() as tx:
            self._schema_lock(tx)
            return current_version(On(self.dialect, tx), component)


class _SqliteTx(Tx):
    dialect: DialectName = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.connection.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        before = self.connection.total_changes
        self.connection.executemany(sql, rows)
        return self.connection.total_changes - before


def _reopen_sqlite(path: str, busy_timeout_seconds: float) -> SqliteDatabase:
    return SqliteDatabase(path, busy_timeout_seconds=busy_timeout_seconds)


class SqliteDatabase(Database):
    """One SQLite file (WAL). Each thread keeps its own connection and every write is one
    `BEGIN IMMEDIATE` transaction, so writers queue on SQLite's lock (with a generous busy
    timeout) instead of failing, and readers never block writers. Deleted rows are zeroed
    (`secure_delete`)."""

    dialect: DialectName = "sqlite"

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_seconds: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout_seconds = busy_timeout_seconds
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._retry_locked(lambda: self._conn().execute("PRAGMA journal_mode = WAL"))

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles as its path: the copy (another process, say) opens its own connections.
        return (_reopen_sqlite, (str(self.path), self.busy_timeout_seconds))

    def __repr__(self) -> str:
        return f"SqliteDatabase({str(self.path)!r})"

    def _retry_locked(self, work: Callable[[], object]) -> None:
        """Switching a new file to WAL needs a lock the busy handler may not wait for."""
        deadline = time.monotonic() + self.busy_timeout_seconds
        while True:
            try:
                work()
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _new_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_seconds,
            isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
            check_same_thread=False,  # only its own thread uses it; close() may run elsewhere
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_seconds * 1000)}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA secure_delete = ON")  # a deleted row's bytes are zeroed (purges)
        with self._lock:
            self._connections.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = self._new_connection()
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        """Close every connection this object opened (it reopens on next use)."""
        with self._lock:
            connections, self._connections = self._connections, []
        self._local = threading.local()
        for conn in connections:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _SqliteTx(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def ensure_schema(
        self, component: str, migrations: Sequence[Migration], tables: Sequence[str]
    ) -> list[int]:
        applied: list[int] = []

        def run() -> None:
            applied[:] = super(SqliteDatabase, self).ensure_schema(component, migrations, tables)

        self._retry_locked(run)
        return applied

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._conn().execute(sql, params).fetchall()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        lock_path = self.path.with_name(f"{self.path.name}.{name}.lock")
        with _THREAD_LOCKS.setdefault(str(lock_path), threading.Lock()), open(lock_path, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes, or the process dies
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def vacuum(self, tables: Sequence[str]) -> None:
        """Checkpoint the WAL away, vacuum, truncate: no copy of deleted rows in either file."""
        conn = self._conn()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


_THREAD_LOCKS: dict[str, threading.Lock] = {}  # flock is per process: threads queue here first
