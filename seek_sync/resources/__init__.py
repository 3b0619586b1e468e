"""Dagster resources: thin wrappers that build the library objects from settings at run time."""

from seek_sync.resources.seek_sync import SeekSyncResource
from seek_sync.resources.warehouse import WarehouseResource

__all__ = ["SeekSyncResource", "WarehouseResource"]
