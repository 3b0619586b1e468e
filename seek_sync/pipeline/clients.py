"""The clients a run step talks through: SEEK's, and every hirer's ATS target (no Dagster)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from seek_sync.ats.factory import AtsTargets
from seek_sync.ats.targets import TargetMap
from seek_sync.pipeline.on_demand import OnDemand, OnDemandSource
from seek_sync.pipeline.stores import Stores
from seek_sync.seek.client import SeekClient, http_client
from seek_sync.settings import Settings
from seek_sync.store.signed_urls import SignedBlobSource


@dataclass(frozen=True)
class Clients:
    seek: SeekClient  # one HTTP pool and one partner token for the process
    targets: AtsTargets  # one ATS HTTP client; stored files read directly or by signed URL
    on_demand: OnDemand  # files of hirers on demand: fetched from SEEK, or as proxy URLs


@asynccontextmanager
async def open_clients(
    settings: Settings, stores: Stores, target_map: TargetMap | None
) -> AsyncIterator[Clients]:
    """Both kinds of client, closed on leaving."""
    secret = settings.blob_signing_secret
    blobs = SignedBlobSource(
        stores.blobs,
        public_base=settings.receiver_public_url,
        secret=secret.get_secret_value().encode() if secret else None,
        ttl=settings.signed_url_ttl_seconds,
    )
    source = OnDemandSource(blobs, settings)
    async with (
        http_client(settings) as seek_http,
        AtsTargets.open(settings, target_map, source) as ats,
    ):
        seek = SeekClient(seek_http, settings)
        yield Clients(seek, ats, OnDemand(source, seek))
