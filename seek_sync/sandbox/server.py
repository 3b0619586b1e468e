"""One aiohttp server for every fake, each at its real path, plus the `/_sandbox` control surface.

`SandboxServer` runs it in a background thread (tests, the demo); `serve()` runs it in the
foreground for `seek-sync sandbox serve`. Once listening, the server's start-up facts (base URLs and
demo credentials) are available as `info()`, which `serve()` prints as exactly one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Self

from aiohttp import web

from seek_sync.sandbox import admin_routes, browser_tokens, seek_routes
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.faults import RECEIVED, Fault, RecordedRequest
from seek_sync.sandbox.kill import KILLED, caller_pid, kill_and_drop
from seek_sync.sandbox.state import FAULT, STATE, SandboxState
from seek_sync.sandbox.webhooks import DeliveryReport, WebhookSender
from seek_sync.sandbox.world import StreamEvent

log = logging.getLogger("seek_sync.sandbox")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _drop(request: web.Request) -> web.Response:
    """Abort the connection: the client sees a reset or an incomplete response."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=499)


async def _cut(request: web.Request, response: web.Response, fault: Fault) -> web.StreamResponse:
    """Re-send a finished response truncated or slowly, keeping its Content-Length."""
    body = bytes(response.body or b"")  # type: ignore[arg-type]
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    if fault.kind == "truncate":
        await stream.write(body[: len(body) // 2])
        return await _drop(request)
    pieces = 8
    step = max(1, len(body) // pieces)
    for start in range(0, len(body), step):
        await stream.write(body[start : start + step])
        await asyncio.sleep(fault.delay / pieces)
    await stream.write_eof()
    return stream


@web.middleware
async def faults_and_recording(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record every API request and apply the next matching fault to it."""
    endpoint = request.match_info.route.name or "unrouted"
    if endpoint.startswith("admin."):
        return await handler(request)
    request[RECEIVED] = time.time()
    state = request.app[STATE]
    fault = state.faults.take(endpoint, caller=lambda: caller_pid(request))
    state.log.record(endpoint, request.method, request.path, dict(request.headers), fault)
    if fault is None:
        return await handler(request)
    kind = fault.kind
    if kind == "latency":
        await asyncio.sleep(fault.delay)
    elif kind == "hold":
        await state.held.park(request, fault.delay)
    elif kind == "rate_limit":
        headers = {"Retry-After": f"{fault.retry_after:g}"}
        return web.json_response({"message": "Too Many Requests"}, status=429, headers=headers)
    elif kind == "error":
        return web.json_response({"message": "Injected failure"}, status=fault.status)
    elif kind == "reset":
        return await _drop(request)
    elif kind == "expire_token":
        state.tokens.expire_all()
    request[FAULT] = fault
    if kind == "kill":
        return await _kill_after(request, handler, fault)
    response = await handler(request)
    if kind == "lose_response":
        return await _drop(request)
    if kind in ("truncate", "slow_body") and isinstance(response, web.Response):
        return await _cut(request, response, fault)
    return response


async def _kill_after(request: web.Request, handler: Handler, fault: Fault) -> web.StreamResponse:
    """Apply the call's effect, then kill the client and drop (unless the handler did both)."""
    try:
        response: web.StreamResponse | None = await handler(request)
    except web.HTTPException:
        response = None
    if response is not None and request.get(KILLED):
        return response
    return await kill_and_drop(request, fault)


def build_app(state: SandboxState) -> web.Application:
    app = web.Application(middlewares=[faults_and_recording], client_max_size=64 * 1024**2)
    app[STATE] = state
    seek_routes.add_routes(app)
    browser_tokens.add_routes(app)
    admin_routes.add_routes(app)
    for fake in state.fakes.values():
        fake.add_routes(app)
    return app


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


class SandboxServer:
    """A sandbox on a background thread; use as a context manager or call start()/stop()."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.state = SandboxState.from_config(self.config)
        self._sock = _bind(self.config.host, self.config.port)
        self.port: int = self._sock.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None

    # --- lifecycle --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.port}"

    def info(self) -> dict[str, Any]:
        """The start-up line: every base URL and demo credential."""
        c = self.config
        return {
            "base_url": self.base_url,
            "seek_token_url": f"{self.base_url}/oauth/token",
            "seek_browser_token_url": f"{self.base_url}/auth/token",
            "seek_graphql_url": f"{self.base_url}/graphql",
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "audience": c.audience,
            "scheme_id": self.state.world.scheme_id,
            "webhook_secret": c.webhook_secret,
            "admin_url": f"{self.base_url}/_sandbox",
        } | {
            k: v for fake in self.state.fakes.values() for k, v in fake.info(self.base_url).items()
        }

    async def run_async(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve until stop() is called."""
        self._stopped = asyncio.Event()
        runner = web.AppRunner(build_app(self.state), access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, self._sock).start()
        self._loop = asyncio.get_running_loop()
        self._ready.set()
        if on_ready:
            on_ready()
        try:
            await self._stopped.wait()
        finally:
            await runner.cleanup()
            self.state.received.close()

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.run_async()), name="seek-sync-sandbox", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("sandbox did not start within 30 s")
        return self

    def stop(self) -> None:
        if self._loop and self._stopped:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread:
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- Python control surface (same as /_sandbox) ---------------------------------------
    def add_fault(self, endpoint: str, kind: str, **options: Any) -> None:
        self.state.faults.add(Fault(endpoint=endpoint, kind=kind, **options))  # type: ignore[arg-type]

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def counts(self) -> dict[str, int]:
        return self.state.log.counts()

    def count(self, endpoint: str) -> int:
        return self.state.log.count(endpoint)

    def requests(self, endpoint: str | None = None) -> list[RecordedRequest]:
        return self.state.log.requests(endpoint)

    def expire_tokens(self) -> None:
        self.state.tokens.expire_all()

    def deliver_webhooks(
        self, url: str, events: list[StreamEvent] | None = None, **options: Any
    ) -> DeliveryReport:
        """Push events (default: all) to `url` as signed webhook batches; blocks until done."""
        if self._loop is None:
            raise RuntimeError("sandbox is not running")
        sender = WebhookSender(url=url, secret=self.config.webhook_secret, seed=self.config.seed)
        chosen = list(self.state.world.events) if events is None else events
        future = asyncio.run_coroutine_threadsafe(sender.deliver(chosen, **options), self._loop)
        report = future.result(timeout=300)
        self.state.webhook_totals.add(report)
        return report


def serve(config: SandboxConfig) -> None:
    """Foreground server: print one JSON line once listening, log to stderr, run until killed."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
    server = SandboxServer(config)

    def ready() -> None:
        sys.stdout.write(json.dumps(server.info()) + "\n")
        sys.stdout.flush()
        log.info("sandbox listening on %s", server.base_url)

    def terminated(signum: int, frame: object) -> None:
        """Remove the spill folder of received files, then die of SIGTERM as before."""
        server.state.received.close()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, terminated)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.run_async(on_ready=ready))
