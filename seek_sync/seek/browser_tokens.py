"""Browser tokens for a partner's own front end (reference/seek-api.md, "Browser tokens").

`POST {seek_browser_token_url}` with the partner token and `hirerId`, `scope`, `userId` answers a
token a hirer's browser may use, here to download that hirer's attachments straight from SEEK.
Tokens are cached per (hirer, user, scope), each for the `expires_in` of its own answer minus a
margin (at most half its life), and refreshed once that runs out; one fetch per key at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

import httpx
from pydantic import ValidationError

from seek_sync.http import RetryPolicy, Tracing, raise_for_retryable
from seek_sync.seek.auth import PartnerTokenProvider
from seek_sync.seek.errors import (
    MalformedResponseError,
    RetryableHTTPError,
    SeekError,
    SeekForbiddenError,
    SeekTransportError,
    UnexpectedStatusError,
)
from seek_sync.seek.models import TokenResponse

log = logging.getLogger("seek_sync.seek")

DOWNLOAD_SCOPE = "download:candidate-profile-attachments"
Key = tuple[str, str, str]


def scope_key(scope: str) -> str:
    """One spelling of a space-separated scope (order and repeats do not make another token)."""
    return " ".join(sorted(set(scope.split())))


class BrowserTokenProvider:
    """Browser tokens per (hirer, user, scope), fetched with the partner token when due."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        url: str,
        partner: PartnerTokenProvider,
        refresh_margin_seconds: float = 60.0,
        tracing: Tracing | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self._url = url
        self._partner = partner
        self._margin = refresh_margin_seconds
        self._tracing = tracing or Tracing()
        self._policy = policy or RetryPolicy()
        self._cache: dict[Key, tuple[TokenResponse, float]] = {}
        self._locks: defaultdict[Key, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.fetches = 0

    def _cached(self, key: Key) -> TokenResponse | None:
        entry = self._cache.get(key)
        return entry[0] if entry and time.monotonic() < entry[1] else None

    async def token(
        self, hirer_id: str, user_id: str, scope: str = DOWNLOAD_SCOPE
    ) -> TokenResponse:
        """A browser token with at least the margin left (its `expires_in` as SEEK answered)."""
        if not hirer_id or not user_id or not scope.split():
            raise ValueError("a browser token needs a hirer, a user and a scope")
        key = (hirer_id, user_id, scope_key(scope))
        if (grant := self._cached(key)) is not None:
            return grant
        async with self._locks[key]:
            if (grant := self._cached(key)) is None:
                grant = await self._fetch(key)
            return grant

    async def _fetch(self, key: Key) -> TokenResponse:
        async for attempt in self._policy.retrying(SeekError.service, log):
            with attempt:
                grant = await self._request(key)
        margin = min(self._margin, grant.expires_in / 2)
        self._cache[key] = (grant, time.monotonic() + grant.expires_in - margin)
        self.fetches += 1
        return grant

    async def _request(self, key: Key) -> TokenResponse:
        hirer_id, user_id, scope = key
        body = {"hirerId": hirer_id, "scope": scope, "userId": user_id}
        for refreshed in (False, True):
            partner = await self._partner.token()
            headers = self._tracing.headers()
            headers["Authorization"] = f"Bearer {partner}"
            request_id = headers["X-Request-Id"]
            try:
                response = await self._http.post(self._url, json=body, headers=headers)
            except httpx.TransportError as error:
                raise SeekTransportError(error, request_id=request_id) from None
            if response.status_code != 401 or refreshed:
                break
            log.info("browser token got 401 (request id %s); refreshing partner token", request_id)
            await self._partner.refresh(partner)
        raise_for_retryable(response, request_id, RetryableHTTPError)
        if response.status_code in (401, 403):
            raise SeekForbiddenError(
                f"SEEK refused a browser token for this hirer (HTTP {response.status_code})",
                request_id=request_id,
            )
        if response.status_code != 200:
            raise UnexpectedStatusError(
                response.status_code, "browser token", request_id=request_id
            )
        try:
            return TokenResponse.model_validate_json(response.content)
        except ValidationError:
            raise MalformedResponseError(
                "browser token response is not {access_token, expires_in}", request_id=request_id
            ) from None
