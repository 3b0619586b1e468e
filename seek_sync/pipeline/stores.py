"""Where a run step keeps things: the inbox (with the journal beside it), warehouse and blobs."""

from __future__ import annotations

from dataclasses import dataclass, field

from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.journal import Journal
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Warehouse


@dataclass
class Stores:
    inbox: Inbox
    warehouse: Warehouse
    blobs: BlobStore
    journal: Journal = field(init=False)

    def __post_init__(self) -> None:
        self.journal = Journal(self.inbox)

    def merge(self) -> int:
        """Every journaled outcome into the warehouse (one short DuckDB write)."""
        return self.journal.merge(self.warehouse)
