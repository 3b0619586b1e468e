"""The httpx clients our remote calls go through: httpx's API on aiohttp's HTTP engine, and one
TLS context per process.

httpx's own transport (httpcore on anyio) costs several times the CPU of aiohttp per request and
per chunk; `seek-sync bench --floor` measures the gap (docs/performance.md). The transport from
`httpx-aiohttp` keeps httpx's API (requests, responses, streaming, timeouts) and sends through an
`aiohttp.ClientSession`. Its own error mapping leaves some aiohttp and socket errors unmapped;
here every failure of the connection or the body becomes an `httpx.TransportError`, the class our
clients turn into their retryable transport error, so the retry policy sees what it saw before.

Building a TLS context loads the CA bundle (tens of milliseconds); httpx builds one per client and
a run step opens clients per run, so the context is made once per process and shared.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream

CHUNK_BYTES = 65536


@cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi's CAs, SSL_CERT_FILE/DIR honoured), made once."""
    return httpx.create_ssl_context()


def _transport_error(error: BaseException) -> httpx.TransportError:
    """The httpx class for an aiohttp or socket failure (the message names only its class)."""
    name = type(error).__name__
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(name)
    if isinstance(error, aiohttp.ClientConnectorError):
        return httpx.ConnectError(name)
    if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(name)
    return httpx.ReadError(name)


_FAILURES = (aiohttp.ClientError, OSError, TimeoutError)


class _Body(AiohttpResponseStream):
    """The response body in chunks as they arrive; any failure reading it is a TransportError."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._aiohttp_response.content
        try:
            while chunk := await content.read(CHUNK_BYTES):
                yield chunk
        except httpx.TransportError:
            raise
        except _FAILURES as error:
            raise _transport_error(error) from None


class AiohttpTransportMapped(AiohttpTransport):
    """httpx-aiohttp's transport, every connection failure raised as an httpx.TransportError."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError:
            raise
        except _FAILURES as error:
            raise _transport_error(error) from None
        body = response.stream
        if isinstance(body, AiohttpResponseStream):
            response.stream = _Body(body._aiohttp_response)
        return response


def _session_factory(limits: httpx.Limits) -> Any:
    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry or 0,
            ssl=tls_context(),
        )
        # Cookies are httpx's business (it sends its own jar), and so are proxies from the
        # environment (httpx mounts its own proxy transports for them); aiohttp's trust_env
        # would look up netrc and proxies in a thread for every request.
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )

    return session


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, which reads a response only when it sets a cookie: httpx hands every
    response to the standard library's jar (two compatibility objects and a header scan, a
    tenth of a profile query's CPU); without a Set-Cookie or Set-Cookie2 header it finds none."""

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class _Client(httpx.AsyncClient):
    """httpx's AsyncClient with the jar above."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._cookies = _Cookies(self._cookies)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._cookies = _Cookies(cookies)


def async_client(
    timeout: httpx.Timeout, limits: httpx.Limits | None = None, **options: Any
) -> httpx.AsyncClient:
    """An httpx client on the aiohttp transport with the shared TLS context."""
    limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
    transport = AiohttpTransportMapped(
        verify=tls_context(), limits=limits, client=_session_factory(limits)
    )
    return _Client(timeout=timeout, transport=transport, **options)
