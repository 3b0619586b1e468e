"""For the tests of `seek-sync migrate`: a home moved up by a real `seek-sync migrate` process,
and a home and a server schema counted table by table with plain drivers (not the code under
test)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg

from seek_sync.dagster_instance import make_home
from seek_sync.migrate_tables import INBOX_TABLES, WAREHOUSE_TABLES
from tests.backends import S3_ENV


@dataclass(frozen=True)
class MovedUp:
    server: dict[str, str]  # the server backend's settings: database, bucket, S3 endpoint, keys
    instance: dict[str, str]  # the new Dagster instance's variables (on the same database)
    output: str  # the migrate's


def migrate_process(
    home_env: dict[str, str], url: str, bucket: str, endpoint: str, dagster: Path
) -> MovedUp:
    """The embedded home of `home_env` (its `SEEK_SYNC_*` settings) moved up by a `seek-sync
    migrate` process into database `url` (as `--to` takes it) and `s3://bucket/blobs` at the
    moto `endpoint`, its hirer partitions into a new Dagster instance at `dagster`; it succeeded
    with no count differing."""
    server = S3_ENV | {
        "SEEK_SYNC_DATABASE_URL": url,
        "SEEK_SYNC_BLOB_URL": f"s3://{bucket}/blobs",
        "SEEK_SYNC_S3_ENDPOINT_URL": endpoint,
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SEEK_SYNC_", "DAGSTER_"))}
    instance = make_home(dagster, {**base, **home_env, **server})
    # Run in the embedded home's environment; --to, --blobs and DAGSTER_HOME name the new.
    env = base | home_env | S3_ENV | instance | {"SEEK_SYNC_S3_ENDPOINT_URL": endpoint}
    args = ["migrate", "--to", url, "--blobs", server["SEEK_SYNC_BLOB_URL"]]
    done = subprocess.run(
        [sys.executable, "-m", "seek_sync.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "counts differ" not in done.stdout, done.stdout
    return MovedUp(server, instance, done.stdout)


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
