"""`WarehouseResource`: the DuckDB warehouse, opened through dagster-duckdb's `DuckDBResource`."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from seek_sync.settings import Settings
from seek_sync.store.warehouse import Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """Short batched writes only; a locked file is waited for (DuckDB has one writer per file)."""

    database: str | None = None  # default: SEEK_SYNC_WAREHOUSE_PATH
    lock_timeout_seconds: float = 120.0

    def open(self, settings: Settings) -> Warehouse:
        path = self.database or str(settings.warehouse_path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        duckdb = DuckDBResource(database=path)
        return Warehouse(
            Path(path), opener=duckdb.get_connection, lock_timeout_seconds=self.lock_timeout_seconds
        )
