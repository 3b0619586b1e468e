"""Builds the ATS target of one hirer from the hirer map entry and the settings."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import httpx

from seek_sync.ats.base import AtsTarget, BlobSource
from seek_sync.ats.kombo import KomboTarget
from seek_sync.ats.kombo_api import KomboApi
from seek_sync.ats.onderwijsregio import OnderwijsregioTarget
from seek_sync.ats.onderwijsregio_api import OnderwijsregioClient
from seek_sync.ats.targets import HirerTarget, TargetConfigError, TargetKind
from seek_sync.http import RetryPolicy
from seek_sync.settings import Settings


def callback_url(settings: Settings, hirer_id: str) -> str:
    """The receiver's callback route for one hirer (the hirer travels in the signed query)."""
    base = settings.receiver_public_url.rstrip("/")
    return f"{base}/callbacks/onderwijsregio?hirer={quote(hirer_id, safe='')}"


def build_target(
    hirer_id: str,
    entry: HirerTarget,
    settings: Settings,
    http: httpx.AsyncClient,
    blobs: BlobSource,
    *,
    kombo_writes: asyncio.Semaphore | None = None,
) -> AtsTarget:
    """The target for `entry.target`, with credentials read from the variables it names
    (`kombo_writes`: one limit on Kombo writes shared by the targets of a process)."""
    if entry.target is TargetKind.ONDERWIJSREGIO:
        base_url = entry.base_url or settings.onderwijsregio_url
        if not base_url:
            raise TargetConfigError("SEEK_SYNC_ONDERWIJSREGIO_URL is not set")
        client = OnderwijsregioClient(
            http, base_url=base_url, api_key=entry.api_key(), settings=settings
        )
        return OnderwijsregioTarget(client, blobs, callback_url=callback_url(settings, hirer_id))
    if entry.target is TargetKind.KOMBO:
        return build_kombo_target(settings, entry, blobs, http, kombo_writes)
    raise TargetConfigError(f"unknown target kind {entry.target}")


def build_kombo_target(
    settings: Settings,
    hirer: HirerTarget,
    blobs: BlobSource,
    http: httpx.AsyncClient,
    writes: asyncio.Semaphore | None = None,
) -> KomboTarget:
    """A target for one hirer: its key from `api_key_env`, its integration id (else the
    settings'), its base URL (else `kombo_url`); writes bounded by `writes` when several
    targets share one limit, else per target instance."""
    integration = hirer.integration_id or settings.kombo_integration_id
    if not integration:
        raise TargetConfigError("kombo target needs an integration_id (map or settings)")
    api = KomboApi(
        http,
        base_url=hirer.base_url or settings.kombo_url,
        api_key=hirer.api_key(),
        integration_id=integration,
        policy=RetryPolicy.from_settings(settings),
        write_concurrency=settings.kombo_write_concurrency,
        writes=writes,
    )
    return KomboTarget(
        api,
        blobs,
        hirer=hirer,
        data_limit_bytes=settings.kombo_data_limit_bytes,
        max_sends=settings.ats_max_sends,
    )
