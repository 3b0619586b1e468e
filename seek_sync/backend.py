"""Which backend holds the project's state, decided by settings alone, and the stores it opens.

Embedded (the default): the inbox and run state in a SQLite file under the home, the warehouse a
DuckDB file, blobs on the local disk. Server (`SEEK_SYNC_DATABASE_URL` set): the inbox, the run
state and the warehouse tables in one schema (`SEEK_SYNC_DATABASE_SCHEMA`) of that PostgreSQL
database; blobs wherever `blob_url` says (`s3://bucket/prefix` with `SEEK_SYNC_S3_ENDPOINT_URL`).
Everything that builds a store comes here; the pipeline stages, the assets, the sensor and the
receiver only ever see the `Inbox`, `Warehouse` and `BlobStore` it returns. No Dagster here.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seek_sync.db.database import Database, SqliteDatabase
from seek_sync.db.migrations import latest
from seek_sync.runstate import schema as inbox_schema
from seek_sync.runstate.inbox import Inbox
from seek_sync.settings import BlobFields, HomeFields, WarehouseFields
from seek_sync.store import warehouse_schema
from seek_sync.store.blobs import BlobStore

if TYPE_CHECKING:
    from pathlib import Path

    from seek_sync.store.warehouse import Warehouse


def is_server(settings: HomeFields) -> bool:
    return settings.database_url is not None


def state_database(settings: HomeFields) -> Database:
    """The run-state database: this process's pool on the server, else the home's SQLite file."""
    if settings.database_url is not None:
        from seek_sync.db.postgres import PostgresDatabase  # the `server` extra: psycopg

        url = settings.database_url.get_secret_value()
        return PostgresDatabase.shared(url, settings.database_schema)
    return SqliteDatabase(settings.inbox_path)


def open_inbox(settings: HomeFields) -> Inbox:
    """The inbox (and run state) the settings choose; `SchemaError` if its schema is older."""
    return Inbox(state_database(settings))


def open_warehouse(
    settings: WarehouseFields,
    *,
    path: Path | None = None,
    opener: Callable[[], AbstractContextManager[Any]] | None = None,
    lock_timeout_seconds: float = 60.0,
) -> Warehouse:
    """The warehouse of these settings: PostgreSQL when a database URL is set, else the DuckDB
    file at `path` (default: the settings' `warehouse_path`)."""
    if settings.database_url is not None:  # psycopg is the `server` extra: imported only here
        from seek_sync.store.warehouse_postgres import PostgresWarehouse

        return PostgresWarehouse(settings.database_url.get_secret_value(), settings.database_schema)
    from seek_sync.store.warehouse_duckdb import DuckDBWarehouse

    return DuckDBWarehouse(
        path or settings.warehouse_path, opener=opener, lock_timeout_seconds=lock_timeout_seconds
    )


def open_blobs(settings: BlobFields, *, refused: frozenset[str] = frozenset()) -> BlobStore:
    """The blob store of these settings (an S3 endpoint passed to s3fs when one is set),
    refusing writes for the hirers in `refused` (those on demand)."""
    return BlobStore(settings.blob_url, endpoint_url=settings.s3_endpoint_url, refused=refused)


@dataclass(frozen=True)
class Component:
    """One versioned schema the backend holds: its version, the release's, and how to upgrade."""

    name: str
    latest: int
    current: Callable[[], int]
    upgrade: Callable[[], list[int]]  # applies what is missing, under the database's lock


def components(settings: WarehouseFields) -> list[Component]:
    """Every versioned schema of the chosen backend, in the order `seek-sync db upgrade` runs."""
    database = state_database(settings)
    name, migrations = inbox_schema.COMPONENT, inbox_schema.MIGRATIONS
    warehouse = open_warehouse(settings)
    return [
        Component(
            name,
            latest(migrations),
            lambda: database.schema_version(name),
            lambda: database.upgrade_schema(name, migrations),
        ),
        Component(
            warehouse_schema.COMPONENT,
            latest(warehouse_schema.MIGRATIONS),
            lambda: warehouse.versions()[0],
            warehouse.upgrade,
        ),
    ]
