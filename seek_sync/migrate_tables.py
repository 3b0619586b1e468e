"""The tables of an embedded home copied into a server schema, for `seek-sync migrate`.

The home is read as one snapshot while its `journal-merge` lock is held (no merge moves rows from
the journal into the warehouse meanwhile): the inbox and run state in one read transaction of the
SQLite file, the warehouse on one read-only DuckDB connection. Each table is streamed (`COPY`)
into a temporary table on the server and merged by the server table's primary key inside the
caller's one transaction: rows the home no longer holds are deleted, new and changed rows written
(`ON CONFLICT DO UPDATE ... WHERE ... IS DISTINCT FROM`), unchanged rows left alone, so copying an
unchanged home again writes nothing. The inbox's sequence numbers are kept, and each identity
sequence is moved up to the home's high-water mark (never back), so no seq is ever handed out
twice. The tables are the schema modules' own lists; the server schema is made by the same
migrations as every server process's. No Dagster here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from seek_sync.db.database import Database
from seek_sync.runstate import schema as inbox_schema
from seek_sync.store import warehouse_schema
from seek_sync.store.warehouse_duckdb import DuckDBWarehouse

INBOX_TABLES: tuple[str, ...] = inbox_schema.TABLES
WAREHOUSE_TABLES: tuple[str, ...] = warehouse_schema.OWN_TABLES
TABLES = INBOX_TABLES + WAREHOUSE_TABLES
BATCH = 2000  # rows fetched from the home at a time


class CopyError(RuntimeError):
    """The server's table cannot take the home's rows (one line)."""


@dataclass(frozen=True)
class Source:
    """One table of the home: its columns, its rows (streamed once) and, for a table whose
    rows are numbered by SQLite's AUTOINCREMENT, the highest number ever handed out."""

    name: str
    columns: list[str]
    rows: Iterator[Sequence[Any]]
    high_water: int = 0


@dataclass
class Copied:
    table: str
    home: int  # rows in the home
    written: int  # rows inserted or changed on the server
    removed: int  # server rows the home no longer holds


def _stream(cursor: Any) -> Iterator[Sequence[Any]]:
    while batch := cursor.fetchmany(BATCH):
        yield from batch


@contextmanager
def home_snapshot(
    state: Database, inbox_path: Path, warehouse: DuckDBWarehouse
) -> Iterator[Iterator[Source]]:
    """Every table of the home, inbox first, each to be read to its end before the next."""
    with state.exclusive("journal-merge"):
        inbox = sqlite3.connect(f"{inbox_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            inbox.execute("BEGIN")  # one snapshot of the WAL file for every table
            marks = dict(inbox.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
            with warehouse.connect(read_only=True) as duck:

                def tables() -> Iterator[Source]:
                    for table in INBOX_TABLES:
                        cursor = inbox.execute(f'SELECT * FROM "{table}"')
                        names = [d[0] for d in cursor.description]
                        yield Source(table, names, _stream(cursor), int(marks.get(table) or 0))
                    for table in WAREHOUSE_TABLES:
                        result = duck.execute(f'SELECT * FROM "{table}"')
                        names = [d[0] for d in result.description or ()]
                        yield Source(table, names, _stream(result))

                yield tables()
        finally:
            inbox.close()


def _columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = %s ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _primary_key(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary "
        "ORDER BY array_position(i.indkey, a.attnum)",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _names(columns: Sequence[str], prefix: str = "") -> sql.Composed:
    qualifier = sql.SQL(f"{prefix}.") if prefix else sql.SQL("")
    return sql.SQL(", ").join(qualifier + sql.Identifier(c) for c in columns)


def copy_table(conn: psycopg.Connection[Any], source: Source) -> Copied:
    """Make the server's table hold exactly the home's rows (inside the caller's transaction)."""
    table = sql.Identifier(source.name)
    have = _columns(conn, source.name)
    unknown = [c for c in source.columns if c not in have]
    if unknown:
        raise CopyError(f"the server's {source.name} table has no column {unknown[0]}")
    keys = _primary_key(conn, source.name)
    if not keys:
        raise CopyError(f"the server's {source.name} table has no primary key")
    columns = _names(source.columns)
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE migrate_batch ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
        ).format(columns, table)
    )
    count = 0
    with conn.cursor().copy(sql.SQL("COPY migrate_batch ({}) FROM STDIN").format(columns)) as copy:
        for row in source.rows:
            copy.write_row(row)
            count += 1
    same_key = sql.SQL(" AND ").join(
        sql.SQL("b.{k} = t.{k}").format(k=sql.Identifier(k)) for k in keys
    )
    removed = conn.execute(
        sql.SQL(
            "DELETE FROM {} AS t WHERE NOT EXISTS (SELECT 1 FROM migrate_batch AS b WHERE {})"
        ).format(table, same_key)
    ).rowcount
    values = [c for c in source.columns if c not in keys]
    if values:
        update = sql.SQL(
            "DO UPDATE SET ({}) = ROW({}) WHERE ROW({}) IS DISTINCT FROM ROW({})"
        ).format(
            _names(values),
            _names(values, "EXCLUDED"),
            _names(values, "t"),
            _names(values, "EXCLUDED"),
        )
    else:
        update = sql.SQL("DO NOTHING")
    written = conn.execute(
        sql.SQL("INSERT INTO {} AS t ({}) SELECT {} FROM migrate_batch ON CONFLICT ({}) {}").format(
            table, columns, columns, _names(keys), update
        )
    ).rowcount
    conn.execute("DROP TABLE migrate_batch")
    _advance_identities(conn, source.name, source.high_water)
    return Copied(source.name, count, max(written, 0), max(removed, 0))


def _advance_identities(conn: psycopg.Connection[Any], table: str, high_water: int) -> None:
    """Each identity sequence of `table` past every number the home or the server handed out."""
    identities = conn.execute(
        "SELECT column_name, pg_get_serial_sequence(format('%%I.%%I', current_schema(), %s::text), "
        "column_name) FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s AND is_identity = 'YES'",
        [table, table],
    ).fetchall()
    for column, sequence in identities:
        (highest,) = conn.execute(
            sql.SQL("SELECT COALESCE(MAX({}), 0) FROM {}").format(
                sql.Identifier(column), sql.Identifier(table)
            )
        ).fetchone() or (0,)
        (last,) = conn.execute(
            "SELECT COALESCE(last_value, 0) FROM pg_sequences "
            "WHERE format('%%I.%%I', schemaname, sequencename)::regclass = %s::regclass",
            [sequence],
        ).fetchone() or (0,)
        current = int(last)
        wanted = max(int(highest), high_water, current)
        if wanted > current:
            conn.execute("SELECT setval(%s, %s, true)", [sequence, wanted])


def fingerprint(conn: psycopg.Connection[Any], table: str, columns: Sequence[str]) -> list[Any]:
    """[rows, md5 over the rows' text in `columns`]: what the server's table holds, in a form
    a later run compares to find out whether anything else has written it since."""
    if not _columns(conn, table):
        return [0, ""]
    row = conn.execute(
        sql.SQL(
            "SELECT COUNT(*), COALESCE(md5(string_agg(h, '' ORDER BY h)), '') "
            "FROM (SELECT md5(CAST(ROW({}) AS text)) AS h FROM {}) AS s"
        ).format(_names(columns), sql.Identifier(table))
    ).fetchone()
    return [int(row[0]), str(row[1])] if row else [0, ""]


def holding(conn: psycopg.Connection[Any]) -> list[str]:
    """The seek-sync tables of the server schema that hold any row."""
    found = []
    for table in TABLES:
        if _columns(conn, table):
            query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
            row = conn.execute(query).fetchone()
            if row and row[0]:
                found.append(table)
    return found


def server_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts = {}
    for table in TABLES:
        row = conn.execute(
            sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts
