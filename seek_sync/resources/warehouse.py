"""`WarehouseResource`: the warehouse of the settings (`seek_sync.backend.open_warehouse`); the
embedded DuckDB file is opened through dagster-duckdb's `DuckDBResource`."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from seek_sync.backend import open_warehouse
from seek_sync.settings import Settings
from seek_sync.store.warehouse import Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """Short batched writes only; a locked file is waited for (DuckDB has one writer per file)."""

    database: str | None = None  # the DuckDB file; default: SEEK_SYNC_WAREHOUSE_PATH
    lock_timeout_seconds: float = 120.0

    def open(self, settings: Settings) -> Warehouse:
        if settings.database_url is not None:  # the server backend: no file, no file lock
            return open_warehouse(settings)
        path = Path(self.database or settings.warehouse_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        duckdb = DuckDBResource(database=str(path))
        return open_warehouse(
            settings,
            path=path,
            opener=duckdb.get_connection,
            lock_timeout_seconds=self.lock_timeout_seconds,
        )
