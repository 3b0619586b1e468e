"""The stores of a test's backend (`tests.backends.Backend`), opened as every process opens them."""

from __future__ import annotations

from seek_sync.backend import open_inbox, open_warehouse
from seek_sync.runstate.inbox import Inbox
from seek_sync.settings import HomeFields, WarehouseFields, load
from seek_sync.store.warehouse import Warehouse
from tests.backends import Backend


def inbox_of(backend: Backend) -> Inbox:
    """The backend's inbox, through `seek_sync.backend.open_inbox` and the backend's settings."""
    return open_inbox(load(HomeFields, **backend.overrides))


def warehouse_of(backend: Backend) -> Warehouse:
    """The backend's warehouse, through `seek_sync.backend.open_warehouse`."""
    return open_warehouse(load(WarehouseFields, **backend.overrides))
