"""`SeekClient`: the one object callers use, built from settings on a caller-supplied httpx client.

The `httpx.AsyncClient` (and so its transport, pool limits and timeouts) is passed in, so a
benchmark can compare transports and tests can share one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable

import httpx

from seek_sync.http import RetryPolicy, Tracing
from seek_sync.http.clients import async_client
from seek_sync.seek.auth import PartnerTokenProvider
from seek_sync.seek.browser_tokens import BrowserTokenProvider
from seek_sync.seek.downloads import AttachmentDownloader, DownloadResult, DownloadSink
from seek_sync.seek.events import EventPage, event_pages
from seek_sync.seek.graphql import SeekGraphQLClient
from seek_sync.seek.models import HiringOrganization, HiringOrganizationsConnection
from seek_sync.seek.profiles import ProfileResult, fetch_profiles
from seek_sync.seek.queries import HIRING_ORGANIZATIONS
from seek_sync.settings import SeekClientSettings


def http_client(settings: SeekClientSettings, **options: object) -> httpx.AsyncClient:
    """An httpx client (aiohttp transport, shared TLS context: `seek_sync.http.clients`) with the
    configured timeouts and a pool sized for our concurrency."""
    timeout = httpx.Timeout(
        settings.http_read_timeout_seconds, connect=settings.http_connect_timeout_seconds
    )
    size = settings.seek_profile_concurrency + settings.seek_download_concurrency
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    return async_client(timeout, limits, **options)


class SeekClient:
    """Partner token, GraphQL queries and attachment downloads against one SEEK deployment."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: SeekClientSettings,
        *,
        tracing: Tracing | None = None,
    ) -> None:
        self.settings = settings
        self.tracing = tracing or Tracing()
        policy = RetryPolicy.from_settings(settings)
        self.tokens = PartnerTokenProvider(
            http,
            token_url=settings.seek_token_url,
            client_id=settings.seek_client_id,
            client_secret=settings.seek_client_secret,
            audience=settings.seek_audience,
            refresh_margin_seconds=settings.seek_token_refresh_margin_seconds,
            tracing=self.tracing,
            policy=policy,
        )
        self.browser_tokens = BrowserTokenProvider(
            http,
            url=settings.seek_browser_token_url,
            partner=self.tokens,
            refresh_margin_seconds=settings.seek_token_refresh_margin_seconds,
            tracing=self.tracing,
            policy=policy,
        )
        self.graphql = SeekGraphQLClient(
            http,
            url=settings.seek_graphql_url,
            tokens=self.tokens,
            tracing=self.tracing,
            policy=policy,
        )
        # Limits shared by every caller of this client (one client per process).
        self.profile_gate = asyncio.Semaphore(settings.seek_profile_concurrency)
        self.download_gate = asyncio.Semaphore(settings.seek_download_concurrency)
        self.downloader = AttachmentDownloader(
            http,
            tokens=self.tokens,
            allowed_origins=settings.token_origins,
            max_bytes=settings.max_download_bytes,
            tracing=self.tracing,
            policy=policy,
        )

    def event_pages(
        self, after: str | None, *, session_id: str | None = None
    ) -> AsyncIterator[EventPage]:
        return event_pages(
            self.graphql,
            scheme_id=self.settings.seek_scheme_id,
            after=after,
            page_size=self.settings.seek_events_page_size,
            session_id=session_id,
        )

    async def profiles(
        self,
        profile_ids: Iterable[str],
        *,
        on_result: Callable[[ProfileResult], None] | None = None,
        session_id: str | None = None,
    ) -> list[ProfileResult]:
        """Profiles fetched concurrently, within this client's limit across all callers."""
        return await fetch_profiles(
            self.graphql,
            profile_ids,
            gate=self.profile_gate,
            on_result=on_result,
            session_id=session_id,
        )

    async def hiring_organizations(
        self, *, application_export_only: bool = True, session_id: str | None = None
    ) -> list[HiringOrganization]:
        """Every hirer we can see, alphabetically (SEEK's order), 100 a page."""
        found: list[HiringOrganization] = []
        after: str | None = None
        filter_ = (
            {"relationshipTypeCodes": ["ApplicationExport"]} if application_export_only else None
        )
        while True:
            data = await self.graphql.query(
                HIRING_ORGANIZATIONS,
                {
                    "schemeId": self.settings.seek_scheme_id,
                    "first": 100,
                    "after": after,
                    "filter": filter_,
                },
                session_id=session_id,
            )
            page = HiringOrganizationsConnection.model_validate(data["hiringOrganizations"])
            found.extend(edge.node for edge in page.edges)
            if not page.page_info.has_next_page or not page.edges:
                return found
            after = page.page_info.end_cursor

    async def download(
        self, url: str, sink: DownloadSink, *, session_id: str | None = None
    ) -> DownloadResult:
        return await self.downloader.download(url, sink, session_id=session_id)
