"""Counting a home and a server schema table by table, for the tests of `seek-sync migrate`,
with plain drivers (not the code under test)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import psycopg

from seek_sync.migrate_tables import INBOX_TABLES, WAREHOUSE_TABLES


def home_counts(home: Path) -> dict[str, int]:
    """Rows per table of an embedded home (its inbox and warehouse files)."""
    with sqlite3.connect(home / "inbox.sqlite3") as inbox:
        counts = {t: inbox.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in INBOX_TABLES}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as warehouse:
        for table in WAREHOUSE_TABLES:
            counts[table] = warehouse.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    return counts


def server(url: str, schema: str = "seek_sync") -> psycopg.Connection[tuple[object, ...]]:
    """A plain connection to the server schema (`url` as `--to` takes it)."""
    libpq = url.replace("+psycopg", "")
    return psycopg.connect(libpq, autocommit=True, options=f"-c search_path={schema}")


def server_counts(url: str) -> dict[str, int]:
    with server(url) as conn:
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in (*INBOX_TABLES, *WAREHOUSE_TABLES)
        }
