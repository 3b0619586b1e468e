"""The run-state database on PostgreSQL, through psycopg 3 directly (no ORM: the run state is a
handful of tables and hand-written statements that already run on SQLite).

Statements are written once with `?` placeholders and translated here to psycopg's `%s`; rows are
addressable by name or position like `sqlite3.Row`. Every connection sets `search_path` to the
configured schema (created, under the schema lock, when missing). Connections come from a small
per-process pool and run in autocommit mode outside `transaction()`, so no reader leaves a
transaction open. Locks are PostgreSQL advisory locks, named per schema:

- `serialise(name)`: a transaction-level lock, so sequence numbers commit in order (otherwise a
  reader of "rows after seq N" could pass a lower seq that commits later);
- `exclusive(name)`: a session-level lock for the length of a block (journal merges);
- presence: each process holds one session-level lock on a connection of its own for its life;
  the lock goes with the connection, so a holder on any machine is live exactly while it holds it.

No Dagster here.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql as pgsql

from seek_sync.db.database import Database, Tx, lock_key
from seek_sync.db.migrations import DialectName

_IDLE_KEPT = 8  # idle connections a process keeps for reuse


def create_schema_if_missing(connection: psycopg.Connection[Any], schema: str) -> None:
    """`CREATE SCHEMA` only when the schema is missing: PostgreSQL checks the CREATE privilege on
    the database even for `IF NOT EXISTS`, and the roles of a deployment's processes (receiver,
    runs: `deploy/sql/roles.sql`) have none."""
    found = connection.execute("SELECT to_regnamespace(%s) IS NOT NULL", [schema]).fetchone()
    if not (found and found[0]):
        create = pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(schema))
        connection.execute(create)


class VacuumRefused(RuntimeError):
    """PostgreSQL skipped rewriting a table (only a warning): deleted rows stay in its files."""


def wait_for_older_transactions(connection: psycopg.Connection[Any], seconds: float) -> None:
    """Wait until every transaction running now has ended, in any database of the server.

    `VACUUM FULL` copies a deleted row into the new file while any transaction older than the
    delete still runs, in another database of the same server too (measured on PostgreSQL 15),
    so the purged bytes would stay on disk. A fresh snapshot's xmin (the oldest transaction
    still running) passing this moment's xmax says they all ended. Read-only snapshots without a
    transaction id in this database are not seen here; they are short in seek-sync's processes."""
    current = "SELECT pg_snapshot_xmin(s), pg_snapshot_xmax(s) FROM pg_current_snapshot() s"
    (oldest, start) = connection.execute(current).fetchone() or (0, 0)
    deadline = time.monotonic() + seconds
    while int(oldest) < int(start):
        if time.monotonic() > deadline:
            raise VacuumRefused(
                f"a transaction older than the purge is still open after {seconds:.0f} s, so "
                "VACUUM FULL would keep the deleted rows in the table files: end it "
                "(pg_stat_activity, oldest xact_start) and run the purge again"
            )
        time.sleep(0.2)
        (oldest, _) = connection.execute(current).fetchone() or (start, start)


def vacuum_full(
    connection: psycopg.Connection[Any], tables: Sequence[str], *, wait_seconds: float = 120.0
) -> None:
    """`VACUUM FULL` each table once no older transaction runs, checking that each was rewritten
    (it gets a new file). A role that may not maintain a table (before PostgreSQL 17: neither
    its owner nor a member of the owner role; from 17: no MAINTAIN privilege) gets only a
    warning and the table is left as it was, so a purge would leave the deleted rows in the
    table files: refused here instead."""
    wait_for_older_transactions(connection, wait_seconds)
    skipped = []
    filenode = "SELECT pg_relation_filenode(%s::regclass)"
    for table in tables:
        (before,) = connection.execute(filenode, [table]).fetchone() or (None,)
        connection.execute(pgsql.SQL("VACUUM (FULL) {}").format(pgsql.Identifier(table)))
        (after,) = connection.execute(filenode, [table]).fetchone() or (None,)
        if after == before:
            skipped.append(table)
    if skipped:
        raise VacuumRefused(
            f"VACUUM FULL skipped {', '.join(skipped)}: the database role may not rewrite them "
            "(PostgreSQL 17: grant MAINTAIN; before 17: make it a member of the owner role), so "
            "deleted rows stay in the table files (deploy/sql/roles.sql)"
        )


class PgRow(tuple[Any, ...]):
    """A row by position or by column name, and `dict(row)` (as `sqlite3.Row`)."""

    _index: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _rows(cursor: psycopg.Cursor[Any]) -> Any:
    index = {c.name: i for i, c in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> PgRow:
        row = PgRow(values)
        row._index = index
        return row

    return make


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PgTx(Tx):
    dialect: DialectName = "postgresql"

    def __init__(self, connection: psycopg.Connection[Any], schema: str) -> None:
        self.connection, self.schema = connection, schema

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        if not params:
            return self.connection.execute(sql)  # type: ignore[arg-type]
        return self.connection.execute(translate(sql), tuple(params))  # type: ignore[arg-type]

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        values = [tuple(r) for r in rows]
        if not values:
            return 0
        with self.connection.cursor() as cursor:
            cursor.executemany(translate(sql), values)  # type: ignore[arg-type]
            return max(cursor.rowcount, 0)

    def serialise(self, name: str) -> None:
        self.connection.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(self.schema, name),))


_SHARED: dict[tuple[str, str, int], PostgresDatabase] = {}
_SHARED_LOCK = threading.Lock()


class PostgresDatabase(Database):
    """One schema of a PostgreSQL database (`url` in libpq form or `postgresql+psycopg://`)."""

    dialect: DialectName = "postgresql"
    row_lock = " FOR UPDATE SKIP LOCKED"
    share_lock = " FOR SHARE"
    may_upgrade = False

    def __init__(self, url: str, schema: str) -> None:
        self.url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.schema = schema
        self.namespace = lock_key(schema, "presence") & 0x7FFFFFFF
        self._lock = threading.Lock()
        self._idle: list[psycopg.Connection[Any]] = []
        self._local = threading.local()
        self._pid = os.getpid()
        self._presence: tuple[psycopg.Connection[Any], str] | None = None

    @classmethod
    def shared(cls, url: str, schema: str) -> PostgresDatabase:
        """This process's one object for (url, schema): one pool, one presence."""
        key = (url, schema, os.getpid())
        with _SHARED_LOCK:
            found = _SHARED.get(key)
            if found is None:
                found = _SHARED[key] = cls(url, schema)
            return found

    def __reduce__(self) -> tuple[Any, ...]:
        return (PostgresDatabase.shared, (self.url, self.schema))

    def __repr__(self) -> str:
        return f"PostgresDatabase(schema={self.schema!r})"  # the URL may hold a password

    # --- connections ------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.url, autocommit=True, row_factory=_rows)
        conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema)))
        return conn

    def _forked(self) -> None:
        if self._pid != os.getpid():  # a forked child: the parent's connections are not ours
            self._idle, self._presence, self._pid = [], None, os.getpid()
            self._local = threading.local()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's connection while it is in a transaction, else one from the pool."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._lock:
            self._forked()
            conn = self._idle.pop() if self._idle else None
        if conn is None or conn.closed:
            conn = self._connect()
        try:
            yield conn
        finally:
            healthy = not conn.closed and conn.info.transaction_status.name == "IDLE"
            with self._lock:
                if healthy and len(self._idle) < _IDLE_KEPT:
                    self._idle.append(conn)
                    conn = None
            if conn is not None:
                conn.close()

    def close(self) -> None:
        """Close the idle connections (the pool refills on use). The presence connection stays:
        this process holds its leases until it ends, whoever closes an inbox of it."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._connection() as conn:
            if getattr(self._local, "conn", None) is conn:
                raise RuntimeError("transactions do not nest")
            self._local.conn = conn
            try:
                with conn.transaction():
                    yield _PgTx(conn, self.schema)
            finally:
                self._local.conn = None

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._connection() as conn:
            return _PgTx(conn, self.schema).execute(sql, params).fetchall()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        key = lock_key(self.schema, name)
        with self._connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def vacuum(self, tables: Sequence[str]) -> None:
        """`VACUUM FULL` rewrites each table into new files, so deleted rows leave the live
        database (WAL archives, replicas and backups keep old pages until they age out)."""
        with self._connection() as conn:
            vacuum_full(conn, tables)

    def json_values(self) -> str:
        return "SELECT jsonb_array_elements_text(CAST(? AS jsonb))"

    # --- presence -----------------------------------------------------------------------------

    def presence(self) -> str:
        """Take (once per process) a session lock no other process holds, on a connection of
        its own; its number is the token. The lock dies with the connection or the process."""
        with self._lock:
            self._forked()
            if self._presence is not None and not self._presence[0].closed:
                return self._presence[1]
            conn = self._connect()
            while True:
                (number,) = conn.execute("SELECT nextval('presence_seq') % 2147483647").fetchone()
                got = conn.execute(
                    "SELECT pg_try_advisory_lock(%s::integer, %s::integer)",
                    (self.namespace, number),
                ).fetchone()
                if got[0]:
                    break
            self._presence = (conn, str(number))
            return self._presence[1]

    def present(self, token: str) -> bool:
        rows = self.read(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 2)",
            (self.namespace, int(token)),
        )
        return bool(rows[0][0])

    # --- schema -------------------------------------------------------------------------------

    def _schema_lock(self, tx: Tx) -> None:
        tx.serialise("schema")
        assert isinstance(tx, _PgTx)
        create_schema_if_missing(tx.connection, self.schema)

    def tables_exist(self, tx: Tx, tables: Sequence[str]) -> bool:
        marks = ",".join("?" * len(tables))
        found = tx.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? "
            f"AND table_name IN ({marks})",
            (self.schema, *tables),
        ).fetchone()
        return bool(found[0])
