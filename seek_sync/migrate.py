"""`seek-sync migrate`: an embedded home moved up to the server backend, nothing lost or re-sent.

What moves: the inbox and every table of the run state (SQLite), every warehouse table (DuckDB)
and, with a blob destination, the blobs. The home is first brought to this release's schema
(as opening it would), and so is the server's (the migrations `seek-sync db upgrade` applies).
Then, in one PostgreSQL transaction, the server's tables are made to hold exactly the home's
rows (`migrate_tables`), after the blobs are copied (`migrate_blobs`), so no row names a blob the
destination lacks. Afterwards every table's rows and the blobs are counted on both sides.

Whose data a server schema holds is recorded in it (`home_identity`: the home's id, kept in the
home's `home-id` file from its first migrate, and a fingerprint of each table as the migrate left
it). A schema that holds another home's data, or seek-sync rows no migrate put there, is refused
before anything is written; so is one whose tables changed since this home's last migrate (its
own processes have run there: copying again would put the home's older rows over theirs). Until
then, running again is a no-op that also brings over what the home gained (or lost) since.
Each hirer of the home gets its partition key first (`give_keys`: a home of an earlier release has
none), so the server holds the keys the new Dagster instance's hirer partitions are named by
(`seek_sync.partitions.recreate_hirer_partitions`). No Dagster here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from seek_sync.backend import components, open_blobs
from seek_sync.db.database import SqliteDatabase
from seek_sync.ids import is_hirer_id
from seek_sync.migrate_blobs import BlobCopyError, BlobsMoved, blob_keys, copy_absent, remove
from seek_sync.migrate_tables import (
    Copied,
    CopyError,
    copy_table,
    fingerprint,
    holding,
    home_snapshot,
    server_counts,
)
from seek_sync.pipeline.hirers import hirer_names
from seek_sync.runstate.hirer_keys import HirerKeys
from seek_sync.runstate.inbox import Inbox
from seek_sync.settings import BlobFields, WarehouseFields
from seek_sync.store.warehouse_duckdb import DuckDBWarehouse
from seek_sync.store.warehouse_postgres import connect

HOME_ID_FILE = "home-id"
IDENTITY = """
CREATE TABLE IF NOT EXISTS home_identity (
    home_id TEXT PRIMARY KEY, home TEXT NOT NULL, first_at TEXT NOT NULL, last_at TEXT NOT NULL,
    tables_json TEXT NOT NULL)"""
LOCK = "SELECT pg_advisory_xact_lock(hashtext('seek_sync migrate ' || current_schema()))"
HIRERS = (
    "SELECT hirer_id FROM events UNION SELECT hirer_id FROM hirer_work "
    "UNION SELECT hirer_id FROM application_events"
)


class MigrateError(RuntimeError):
    """The migration refused or stopped; one line saying why."""


class HomeSettings(WarehouseFields, BlobFields):
    """Where a home's state lives: its inbox, its warehouse, its blobs (and an S3 endpoint)."""


@dataclass(frozen=True)
class Record:
    home_id: str
    home: str
    first_at: str
    last_at: str
    tables: dict[str, list[Any]]  # table -> [columns, rows, md5]


@dataclass
class Migrated:
    """What a migration did and found: per table, the blobs, and the hirers it holds."""

    tables: list[Copied] = field(default_factory=list)
    server: dict[str, int] = field(default_factory=dict)  # rows per table afterwards
    blobs: BlobsMoved | None = None
    blob_url: str = ""
    hirers: list[str] = field(default_factory=list)
    upgraded: list[str] = field(default_factory=list)

    def differences(self) -> list[str]:
        """Each count that differs between the home and the server: `what (home N, server M)`."""
        found = [
            f"{c.table} (home {c.home}, server {self.server.get(c.table)})"
            for c in self.tables
            if self.server.get(c.table) != c.home
        ]
        blobs = self.blobs
        if blobs is not None and (blobs.there != blobs.home or blobs.extra):
            found.append(f"blobs (home {blobs.home}, there {blobs.there + blobs.extra})")
        return found


def read_home_id(home: Path) -> str | None:
    path = home / HOME_ID_FILE
    return path.read_text(encoding="utf-8").strip() or None if path.exists() else None


def new_home_id(home: Path) -> str:
    home_id = uuid.uuid4().hex
    (home / HOME_ID_FILE).write_text(home_id + "\n", encoding="utf-8")
    return home_id


def read_record(conn: psycopg.Connection[Any]) -> Record | None:
    found = conn.execute("SELECT to_regclass('home_identity') IS NOT NULL").fetchone()
    if not found or not found[0]:
        return None
    rows = conn.execute(
        "SELECT home_id, home, first_at, last_at, tables_json FROM home_identity"
    ).fetchall()
    if len(rows) != 1:
        raise MigrateError(f"the server schema names {len(rows)} homes in home_identity: refusing")
    home_id, home, first_at, last_at, tables = rows[0]
    return Record(home_id, home, first_at, last_at, json.loads(tables))


def check_target(
    conn: psycopg.Connection[Any], home_id: str | None, home: Path, schema: str
) -> Record | None:
    """The server schema's record of this home (None: a schema no migrate has written), or
    `MigrateError` when it is not this home's to write (another home's, or changed since)."""
    record = read_record(conn)
    where = f"the server schema {schema}"
    if record is None:
        held = holding(conn)
        if held:
            raise MigrateError(
                f"{where} already holds seek-sync data that no migrate of this home put there "
                f"({held[0]} has rows): refusing; nothing written"
            )
        return None
    if record.home_id != home_id:
        same_path = record.home == str(home.resolve())
        hint = f" (is {home / HOME_ID_FILE} missing or changed?)" if same_path else ""
        raise MigrateError(
            f"{where} holds the data of another home ({record.home}, migrated at "
            f"{record.last_at}){hint}: refusing; nothing written"
        )
    for table, (columns, rows, md5) in record.tables.items():
        if fingerprint(conn, table, columns) != [rows, md5]:
            raise MigrateError(
                f"{where} has changed since this home's migrate at {record.last_at} ({table} "
                "differs): its processes have run there, and copying again would put the home's "
                "older rows over theirs; nothing written"
            )
    return record


def _write_record(
    conn: psycopg.Connection[Any], home_id: str, home: Path, columns: dict[str, list[str]]
) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    tables = {t: [cols, *fingerprint(conn, t, cols)] for t, cols in columns.items()}
    conn.execute(IDENTITY)
    conn.execute(
        "INSERT INTO home_identity (home_id, home, first_at, last_at, tables_json) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (home_id) DO UPDATE SET home = EXCLUDED.home, "
        "last_at = EXCLUDED.last_at, tables_json = EXCLUDED.tables_json",
        [home_id, str(home.resolve()), now, now, json.dumps(tables)],
    )


def give_keys(inbox: Inbox, warehouse: DuckDBWarehouse) -> None:
    """Every hirer of the home its partition key (a home of an earlier release has none), made
    here so the server gets them with the rest and the new partitions are named by them."""
    sql = "SELECT hirer_id FROM events UNION SELECT hirer_id FROM hirer_work"
    found = {r["hirer_id"] for r in inbox.read(sql)}
    with warehouse.connect(read_only=True) as db:
        rows = db.execute("SELECT DISTINCT hirer_id FROM application_events").fetchall()
    found |= {h for (h,) in rows}
    names = hirer_names(inbox)
    HirerKeys(inbox).assign({h: names.get(h) for h in sorted(found) if is_hirer_id(h)})


def migrate(
    home: HomeSettings,
    target: HomeSettings,
    *,
    say: Callable[[str], None] = lambda _: None,
) -> Migrated:
    """Copy `home` (embedded) into `target` (server; its `blob_url` the blob destination)."""
    if target.database_url is None:
        raise ValueError("the target must name a database")
    url, schema = target.database_url.get_secret_value(), target.database_schema
    if not home.inbox_path.exists():
        raise MigrateError(f"no embedded home here: {home.inbox_path} does not exist")
    state = SqliteDatabase(home.inbox_path)
    inbox = Inbox(state)  # brings the home's inbox to this release's schema, as opening it does
    warehouse = DuckDBWarehouse(home.warehouse_path)
    warehouse.upgrade()
    give_keys(inbox, warehouse)
    home_id = read_home_id(home.home)
    with connect(url, schema) as conn:
        check_target(conn, home_id, home.home, schema)  # before anything is written
    home_id = home_id or new_home_id(home.home)
    result = Migrated()
    for component in components(target):
        applied = component.upgrade()
        if applied:
            result.upgraded.append(f"{component.name} {', '.join(map(str, applied))}")
            say(
                f"server schema: {component.name} version(s) {', '.join(map(str, applied))} applied"
            )
    source = open_blobs(home)
    moving = target.blob_url.rstrip("/") != source.url
    destination = open_blobs(target) if moving else source
    result.blob_url = destination.url
    keys = blob_keys(source)
    try:
        with connect(url, schema) as conn, conn.transaction():
            conn.execute(LOCK)
            record = check_target(conn, home_id, home.home, schema)  # again, under the lock
            extra = blob_keys(destination) - keys if moving else set()
            if moving and record is None and extra:
                raise MigrateError(
                    f"{destination.url} holds {len(extra)} blob(s) this home does not: another "
                    "home's? refusing; nothing written"
                )
            copied = copy_absent(source, destination, keys) if moving else 0
            say(f"blobs: {copied} copied to {destination.url}" if moving else "blobs: not moved")
            columns: dict[str, list[str]] = {}
            with home_snapshot(state, home.inbox_path, warehouse) as tables:
                for table in tables:
                    done = copy_table(conn, table)
                    columns[table.name] = table.columns
                    result.tables.append(done)
                    say(f"{done.table}: {done.written} written, {done.removed} removed")
            changed = copied or extra or any(c.written or c.removed for c in result.tables)
            if record is None or changed:  # an unchanged home leaves the server as it was
                _write_record(conn, home_id, home.home, columns)
    except (CopyError, BlobCopyError) as error:
        raise MigrateError(str(error)) from None
    if moving:
        removed = remove(destination, extra)
        result.blobs = BlobsMoved(len(keys), 0, 0, copied, removed)
    with connect(url, schema) as conn:
        result.server = server_counts(conn)
        result.hirers = sorted(h for (h,) in conn.execute(HIRERS).fetchall() if is_hirer_id(h))
    state.close()
    if result.blobs is not None:
        there = blob_keys(destination)
        result.blobs.there, result.blobs.extra = len(keys & there), len(there - keys)
    return result
