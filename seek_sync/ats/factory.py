"""Every hirer's ATS target, each kind built the same way: from its hirer map entry and settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from urllib.parse import quote

import httpx

from seek_sync.ats.base import AtsTarget, BlobSource
from seek_sync.ats.kombo import KomboTarget
from seek_sync.ats.kombo_api import KomboApi
from seek_sync.ats.onderwijsregio import OnderwijsregioTarget
from seek_sync.ats.onderwijsregio_api import OnderwijsregioClient
from seek_sync.ats.targets import HirerTarget, TargetConfigError, TargetKind, TargetMap
from seek_sync.http import RetryPolicy
from seek_sync.http.clients import async_client
from seek_sync.settings import Settings


def callback_url(settings: Settings, hirer_id: str) -> str:
    """The receiver's callback route for one hirer (the hirer travels in the signed query)."""
    base = settings.receiver_public_url.rstrip("/")
    return f"{base}/callbacks/onderwijsregio?hirer={quote(hirer_id, safe='')}"


class AtsTargets:
    """Builds the target of each hirer in the map, with credentials read from the variables its
    entry names. One per process: its targets share one HTTP client, one blob source and one
    limit on Kombo writes."""

    def __init__(
        self,
        settings: Settings,
        target_map: TargetMap | None,
        http: httpx.AsyncClient,
        blobs: BlobSource,
    ) -> None:
        self.settings, self.target_map, self.http, self.blobs = settings, target_map, http, blobs
        self.kombo_writes = asyncio.Semaphore(settings.kombo_write_concurrency)

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, target_map: TargetMap | None, blobs: BlobSource
    ) -> AsyncIterator[AtsTargets]:
        """With an HTTP client of its own, closed on leaving."""
        timeout = httpx.Timeout(
            settings.http_read_timeout_seconds, connect=settings.http_connect_timeout_seconds
        )
        async with async_client(timeout) as http:
            yield cls(settings, target_map, http, blobs)

    def for_hirer(self, hirer_id: str) -> AtsTarget | None:
        """The hirer's target; None for a hirer the map does not name (or without a map)."""
        if self.target_map is None or hirer_id not in self.target_map.hirers:
            return None
        entry = self.target_map.for_hirer(hirer_id)
        build = {TargetKind.ONDERWIJSREGIO: self._onderwijsregio, TargetKind.KOMBO: self._kombo}
        return build[entry.target](hirer_id, entry)

    def for_hirers(self, hirer_ids: Iterable[str]) -> dict[str, AtsTarget]:
        """The targets of those hirers that have one."""
        return {h: t for h in hirer_ids if (t := self.for_hirer(h)) is not None}

    def _onderwijsregio(self, hirer_id: str, entry: HirerTarget) -> AtsTarget:
        """Its limits and wire names are settings its client carries; callbacks per hirer."""
        settings = self.settings
        client = OnderwijsregioClient(
            self.http,
            base_url=entry.base_url or settings.onderwijsregio_url,
            api_key=entry.api_key(),
            settings=settings,
        )
        return OnderwijsregioTarget(
            client, self.blobs, callback_url=callback_url(settings, hirer_id)
        )

    def _kombo(self, hirer_id: str, entry: HirerTarget) -> AtsTarget:
        """Its integration id from the entry, else the settings'; writes bounded process-wide."""
        settings = self.settings
        integration = entry.integration_id or settings.kombo_integration_id
        if not integration:
            raise TargetConfigError("kombo target needs an integration_id (map or settings)")
        api = KomboApi(
            self.http,
            base_url=entry.base_url or settings.kombo_url,
            api_key=entry.api_key(),
            integration_id=integration,
            policy=RetryPolicy.from_settings(settings),
            write_concurrency=settings.kombo_write_concurrency,
            writes=self.kombo_writes,
        )
        return KomboTarget(
            api,
            self.blobs,
            hirer=entry,
            data_limit_bytes=settings.kombo_data_limit_bytes,
            max_sends=settings.ats_max_sends,
        )
