"""The proxy app: `GET /attachments/{token}` streams one SEEK attachment to the ATS that holds the
token, and `GET /healthz`.

Order per request: verify the token (signature, then expiry) before anything else; check the
SEEK URL's origin against the allow-list the partner token may go to; take a slot (at most
`proxy_concurrency` streams, 503 with Retry-After beyond); check with SEEK that the profile is
the token's hirer's and still lists the attachment (the partner's own access check); then
stream SEEK's body through in chunks, with its Content-Type, Content-Disposition and
Content-Length, writing nothing to disk. SEEK's 404 and 410 are answered as such; any other SEEK
failure is 502, or 504 for a timeout. No database is opened. Each request logs one line of ids
and sizes, never the token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from seek_sync.logs import configure_logging
from seek_sync.proxy.settings import ProxySettings
from seek_sync.proxy.tokens import PROXY_PREFIX, ProxyClaims, TokenRefused, verify_token
from seek_sync.seek.access import Access, attachment_access
from seek_sync.seek.client import SeekClient, http_client
from seek_sync.seek.errors import (
    DownloadError,
    DownloadRefusedError,
    RetryableHTTPError,
    SeekError,
    SeekTransportError,
)

log = logging.getLogger("seek_sync.proxy")

PASSED_HEADERS = ("Content-Type", "Content-Disposition", "Content-Length")


def _answer(status: int, error: str, claims: ProxyClaims | None = None) -> JSONResponse:
    ids = f"hirer={claims.hirer_id} attachment={claims.attachment_id}" if claims else "-"
    log.info("proxy %s status=%d %s", ids, status, error)
    return JSONResponse({"error": error}, status_code=status)


def _failure(error: Exception, claims: ProxyClaims) -> JSONResponse:
    """SEEK's 404/410 as such; a timeout as 504; anything else as 502."""
    status = getattr(error, "status", None)
    if isinstance(error, DownloadError) and error.reason == "not_found":
        return _answer(410 if status == 410 else 404, "gone at SEEK", claims)
    timed_out = isinstance(error, TimeoutError) or (
        isinstance(error, SeekTransportError) and "Timeout" in str(error)
    )
    if timed_out or (isinstance(error, RetryableHTTPError) and status == 504):
        return _answer(504, "SEEK timed out", claims)
    return _answer(502, "SEEK failed", claims)


class Proxy:
    """The state one proxy process holds: a SEEK client, the key, and the slots."""

    def __init__(self, settings: ProxySettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.seek = SeekClient(http, settings)
        self.secret = settings.proxy_signing_secret.get_secret_value().encode()
        self.slots = asyncio.Semaphore(settings.proxy_concurrency)

    async def attachment(self, request: Request) -> Response:
        try:
            claims = verify_token(request.path_params["token"], self.secret)
        except TokenRefused as refused:
            return _answer(403, refused.reason)
        try:
            self.seek.downloader.check_origin(claims.url)
        except DownloadRefusedError:
            return _answer(403, "origin not allowed", claims)
        if self.slots.locked():
            response = _answer(503, "busy", claims)
            response.headers["Retry-After"] = "1"
            return response
        stack = AsyncExitStack()
        await stack.enter_async_context(self.slots)
        try:
            async with asyncio.timeout(self.settings.proxy_first_byte_timeout_seconds):
                access = await attachment_access(
                    self.seek.graphql,
                    hirer_id=claims.hirer_id,
                    profile_id=claims.profile_id,
                    url=claims.url,
                )
                if access is not Access.ALLOWED:
                    await stack.aclose()
                    status = 403 if access is Access.OTHER_HIRER else 404
                    return _answer(status, access.value, claims)
                upstream = await stack.enter_async_context(self.seek.downloader.opened(claims.url))
        except (SeekError, TimeoutError) as error:
            await stack.aclose()
            return _failure(error, claims)
        headers = {h: upstream.headers[h] for h in PASSED_HEADERS if h in upstream.headers}
        headers["Cache-Control"] = "no-store"
        log.info(
            "proxy hirer=%s attachment=%s target=%s status=200 bytes=%s",
            claims.hirer_id,
            claims.attachment_id,
            claims.target,
            headers.get("Content-Length", "?"),
        )
        return StreamingResponse(
            _relay(upstream, stack), headers=headers, background=BackgroundTask(stack.aclose)
        )


async def _relay(upstream: httpx.Response, stack: AsyncExitStack) -> AsyncIterator[bytes]:
    """SEEK's body in chunks as they arrive; the SEEK answer and the slot are released at the end,
    also when either side drops."""
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    finally:
        await stack.aclose()


def create_app(settings: ProxySettings, http: httpx.AsyncClient) -> Starlette:
    proxy = Proxy(settings, http)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    routes = [
        Route(PROXY_PREFIX + "{token}", proxy.attachment, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.proxy = proxy
    return app


def serve(settings: ProxySettings, host: str, port: int) -> None:
    """Run the proxy in the foreground (`seek-sync proxy serve`); once it listens, print one JSON
    line with its base URL (port 0 picks a free one)."""
    configure_logging()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    netloc = f"[{host}]" if ":" in host else host
    sys.stdout.write(json.dumps({"proxy_url": f"http://{netloc}:{sock.getsockname()[1]}"}) + "\n")
    sys.stdout.flush()
    app = create_app(settings, http_client(settings))
    # The stdlib event loop: under uvicorn's default (uvloop) tests/test_proxy_memory.py measured
    # 10,216 kB of VmHWM growth, over its 8 MB bound; 1,976 kB with this loop.
    config = uvicorn.Config(
        app, access_log=False, lifespan="off", timeout_graceful_shutdown=5, loop="asyncio"
    )
    uvicorn.Server(config).run(sockets=[sock])
