"""`SeekSyncResource`: settings, inbox, blob store, SEEK client and ATS targets for a run step.

Settings (secrets included) are read from the `SEEK_SYNC_*` environment once per resource
initialisation (`setup_for_execution`: once per run or tick), never at import and never into
Dagster config, so no secret reaches the UI or the event log. They live in a private attribute,
which Dagster neither serialises nor shows.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import dagster as dg
from pydantic import PrivateAttr

from seek_sync.ats.targets import TargetMap
from seek_sync.backend import open_blobs, open_inbox
from seek_sync.pipeline.stores import Stores
from seek_sync.runstate.inbox import Inbox
from seek_sync.seek.client import SeekClient, http_client
from seek_sync.settings import Settings, load_settings
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Warehouse

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
T = TypeVar("T")


class SeekSyncResource(dg.ConfigurableResource):
    """Where seek-sync keeps its state, and the clients of SEEK and the hirers' ATSs."""

    home: str | None = None  # overrides SEEK_SYNC_HOME (inbox, warehouse and blobs under it)
    _settings: Settings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = self._load()

    def _load(self) -> Settings:
        return load_settings(**({"home": Path(self.home)} if self.home else {}))

    def settings(self) -> Settings:
        """The settings resolved when Dagster initialised this resource (outside Dagster, where
        nothing initialised it, read now)."""
        return self._settings if self._settings is not None else self._load()

    def inbox(self) -> Inbox:
        return open_inbox(self.settings())

    def blobs(self) -> BlobStore:
        """The blob store, refusing writes for the hirers on demand."""
        targets = self.targets()
        refused = targets.on_demand() if targets else frozenset()
        return open_blobs(self.settings(), refused=refused)

    def stores(self, warehouse: Warehouse) -> Stores:
        """The inbox (and the journal beside it), the given warehouse, and the blob store."""
        return Stores(self.inbox(), warehouse, self.blobs())

    def targets(self) -> TargetMap | None:
        path = self.settings().hirer_targets_path
        return TargetMap.load(Path(path)) if path else None

    def endpoints(self) -> str:
        """`sandbox` when SEEK is reached on loopback, else `real`: shown on every run."""
        host = urlsplit(self.settings().seek_graphql_url).hostname or ""
        return "sandbox" if host in LOOPBACK else "real"

    @asynccontextmanager
    async def seek(self) -> AsyncIterator[SeekClient]:
        settings = self.settings()
        async with http_client(settings) as http:
            yield SeekClient(http, settings)

    def with_seek(self, work: Callable[[SeekClient], Awaitable[T]]) -> T:
        """Run `work` with a SEEK client to completion, from synchronous Dagster code."""

        async def run() -> T:
            async with self.seek() as client:
                return await work(client)

        return asyncio.run(run())
