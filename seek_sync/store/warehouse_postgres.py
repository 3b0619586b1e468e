"""The server warehouse: the same tables in one schema of a PostgreSQL database (psycopg 3).

Many processes on many machines write it at once; each batch is one transaction: the rows are
copied (`COPY ... FROM STDIN`) into a temporary table, then merged with
`INSERT ... ON CONFLICT (key) DO UPDATE`, so a batch replaces whole rows by key as DuckDB's
`INSERT OR REPLACE` does. Queries arrive with `?` parameters and are sent with psycopg's `%s`.
The schema is created here only while the database holds none of it; an older schema is refused
in one line until `seek-sync db upgrade` (`upgrade`) has run, under an advisory lock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import pandas as pd
import psycopg
from psycopg.types.numeric import FloatLoader

from seek_sync.db.migrations import On, current_version, ensure, latest
from seek_sync.db.postgres import create_schema_if_missing, vacuum_full
from seek_sync.store.sql import Dialect
from seek_sync.store.warehouse import KEYS, TABLES, Session, Warehouse
from seek_sync.store.warehouse_schema import COMPONENT, MIGRATIONS, OWN_TABLES

# One lock for every schema change of this database's seek-sync schema (any component), taken
# before the schema may exist (so not keyed by current_schema(), which is NULL until then).
SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtext('seek_sync schema ' || %s))"


def conninfo(url: str) -> str:
    """A libpq URL from the settings' SQLAlchemy-style one (`postgresql+psycopg://`)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def connect(url: str, schema: str) -> psycopg.Connection[Any]:
    """An autocommit connection whose unqualified names are the schema's; times in UTC."""
    connection = psycopg.connect(
        conninfo(url), autocommit=True, options=f"-c search_path={schema} -c TimeZone=UTC"
    )
    connection.adapters.register_loader("numeric", FloatLoader)  # SUM() of BIGINT, EXTRACT()
    return connection


def _has_own_tables(connection: psycopg.Connection[Any]) -> bool:
    found = connection.execute(
        "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(%s)",
        [list(OWN_TABLES)],
    ).fetchone()
    return found is not None


def _ready(connection: psycopg.Connection[Any], schema: str, *, may_upgrade: bool) -> list[int]:
    with connection.transaction():
        connection.execute(SCHEMA_LOCK, [schema])
        create_schema_if_missing(connection, schema)
        return ensure(
            On("postgresql", connection),
            COMPONENT,
            MIGRATIONS,
            may_upgrade=may_upgrade,
            is_empty=lambda: not _has_own_tables(connection),
        )


class PostgresWarehouse(Warehouse):
    """The seek-sync tables in `schema` of the database at `url`."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, schema: str) -> None:
        self.url, self.schema = url, schema
        self._schema_ready = False

    def __repr__(self) -> str:
        return f"PostgresWarehouse(schema={self.schema!r})"  # never the URL: it may hold a password

    def upgrade(self) -> list[int]:
        """Every migration not yet applied, under the schema lock."""
        with connect(self.url, self.schema) as connection:
            return _ready(connection, self.schema, may_upgrade=True)

    def versions(self) -> tuple[int, int]:
        with connect(self.url, self.schema) as connection, connection.transaction():
            create_schema_if_missing(connection, self.schema)
            return current_version(On("postgresql", connection), COMPONENT), latest(MIGRATIONS)

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[psycopg.Connection[Any]]:
        with connect(self.url, self.schema) as connection:
            if not self._schema_ready:
                _ready(connection, self.schema, may_upgrade=False)
                self._schema_ready = True
            if read_only:
                connection.execute("SET default_transaction_read_only = on")
            yield connection

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.connect() as connection:
            yield PostgresSession(connection)

    @contextmanager
    def exclusive(self, *, rewrite: bool = True) -> Iterator[Session]:
        """A purge's session; then (`rewrite`) `VACUUM FULL` rewrites every warehouse table, so
        deleted rows leave the table files. It holds each table's ACCESS EXCLUSIVE lock while it
        copies it: run steps wait (reads too) for that table, seconds per GB."""
        with self.connect() as connection:
            yield PostgresSession(connection)
            if rewrite:  # not `purges`: ids and counts only, never deleted
                vacuum_full(connection, list(TABLES))

    def size_bytes(self) -> int:
        with self.connect() as connection:
            row = connection.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(format('%%I.%%I', schemaname, "
                "tablename))), 0) FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename = ANY(%s)",
                [list(OWN_TABLES)],
            ).fetchone()
        return int(row[0]) if row else 0


# Quoted text and comments (kept, `%` doubled), `?` parameters and literal `%` elsewhere.
_TOKENS = re.compile(r"'(?:[^']|'')*'|--[^\n]*|\?|%")


def _token(match: re.Match[str]) -> str:
    text = match.group(0)
    return "%s" if text == "?" else text.replace("%", "%%")


@lru_cache(maxsize=512)
def to_psycopg(sql: str) -> str:
    """`?` parameters (outside quoted text and comments) as `%s`, and every `%` as `%%`."""
    return _TOKENS.sub(_token, sql)


def _value(value: Any) -> Any:
    """A parameter or cell as psycopg adapts it: lists for tuples, Python scalars, None for NaN."""
    if isinstance(value, tuple | list):
        return [_value(v) for v in value]
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None  # None, NaN, NaT, pd.NA
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # a numpy scalar
        return _value(value.item())
    if isinstance(value, float) and value.is_integer():
        return int(value)  # an integer column with gaps comes as floats from pandas
    return value


class PostgresSession(Session):
    """Reads and batched writes on one open psycopg connection (autocommit between batches)."""

    dialect: Dialect = "postgresql"

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def _run(self, sql: str, parameters: Sequence[Any]) -> psycopg.Cursor[Any]:
        if not parameters:
            return self.connection.execute(sql)
        return self.connection.execute(to_psycopg(sql), [_value(p) for p in parameters])

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> pd.DataFrame:
        cursor = self._run(sql, parameters)
        if cursor.description is None:
            return pd.DataFrame()
        columns = [column.name for column in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._run(sql, parameters).fetchall())

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        self._run(sql, parameters)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.connection.transaction():  # nested: a savepoint inside the outer one
            yield

    def _write(self, table: str, frame: pd.DataFrame) -> None:
        columns = [str(c) for c in frame.columns]
        names = ", ".join(f'"{c}"' for c in columns)
        batch = f"batch_{table}"
        keys = KEYS[table]
        updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c not in keys)
        on_conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        self.connection.execute(
            f"CREATE TEMP TABLE {batch} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA"
        )
        with self.connection.cursor().copy(f"COPY {batch} ({names}) FROM STDIN") as copy:
            for row in frame.astype(object).itertuples(index=False, name=None):
                copy.write_row([_value(v) for v in row])
        self.connection.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {batch} "
            f"ON CONFLICT ({', '.join(keys)}) {on_conflict}"
        )
        self.connection.execute(f"DROP TABLE {batch}")
