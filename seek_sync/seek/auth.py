"""Partner token: client-credentials grant, cached for `expires_in` minus a margin.

One refresh at a time: concurrent callers wait on a lock and reuse the token the first one fetched,
so an expiry under load costs one token request, not a stampede.
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from pydantic import SecretStr, ValidationError

from seek_sync.http import RetryPolicy, Tracing, raise_for_retryable
from seek_sync.seek.errors import (
    MalformedResponseError,
    RetryableHTTPError,
    SeekAuthError,
    SeekError,
    SeekTransportError,
    UnexpectedStatusError,
)
from seek_sync.seek.models import TokenResponse

log = logging.getLogger("seek_sync.seek")


class PartnerTokenProvider:
    """Hands out a live partner token, fetching a new one only when due or when told it is stale."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        audience: str,
        refresh_margin_seconds: float = 60.0,
        tracing: Tracing | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._audience = audience
        self._margin = refresh_margin_seconds
        self._tracing = tracing or Tracing()
        self._policy = policy or RetryPolicy()
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.fetches = 0

    def _fresh(self) -> bool:
        return self._token is not None and time.monotonic() < self._expires_at

    async def token(self) -> str:
        """A token that is valid for at least the refresh margin."""
        if self._fresh():
            return self._token  # type: ignore[return-value]
        async with self._lock:
            if not self._fresh():
                await self._fetch()
            return self._token  # type: ignore[return-value]

    async def refresh(self, stale: str) -> str:
        """Replace `stale` (rejected as UNAUTHENTICATED) unless another caller already did."""
        async with self._lock:
            if self._token == stale or not self._fresh():
                await self._fetch()
            return self._token  # type: ignore[return-value]

    async def _fetch(self) -> None:
        async for attempt in self._policy.retrying(SeekError.service, log):
            with attempt:
                grant = await self._request()
        lifetime = grant.expires_in
        margin = min(self._margin, lifetime / 2)  # a short-lived token is still worth caching
        self._token = grant.access_token
        self._expires_at = time.monotonic() + lifetime - margin
        self.fetches += 1

    async def _request(self) -> TokenResponse:
        headers = self._tracing.headers()
        request_id = headers["X-Request-Id"]
        body = {
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
            "audience": self._audience,
            "grant_type": "client_credentials",
        }
        try:
            response = await self._http.post(self._token_url, json=body, headers=headers)
        except httpx.TransportError as error:
            raise SeekTransportError(error, request_id=request_id) from None
        raise_for_retryable(response, request_id, RetryableHTTPError)
        if response.status_code in (400, 401, 403):
            raise SeekAuthError(
                f"SEEK refused the partner credentials (HTTP {response.status_code})",
                request_id=request_id,
            )
        if response.status_code != 200:
            raise UnexpectedStatusError(response.status_code, "token", request_id=request_id)
        try:
            return TokenResponse.model_validate_json(response.content)
        except ValidationError:
            raise MalformedResponseError(
                "token response is not {access_token, expires_in}", request_id=request_id
            ) from None
