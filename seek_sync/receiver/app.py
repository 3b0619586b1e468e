"""The receiver app: SEEK webhooks into the inbox, plus ATS callbacks and signed blob URLs.

`POST /webhooks/seek` reads at most `MAX_WEBHOOK_BYTES` of body (413 beyond), checks
`Seek-Signature` (lowercase hex HMAC-SHA512 of the raw body, keyed with the subscription secret) in
constant time, then the body's shape, and only then appends the events to the inbox, de-duplicated
by event id; anything else gets 401 and stores nothing. An event whose `hirerId` is not a SEEK
hirer id is dropped (logged); a delivery with no other event is 400. SEEK signs no timestamp, so a
replayed delivery is harmless only because its events are already stored. Neither the secret nor
the body is ever logged: one line per request names its id and counts. The app reads only
`ReceiverSettings`: no SEEK partner credential.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import uvicorn
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from seek_sync.backend import open_inbox
from seek_sync.ids import is_hirer_id, shown
from seek_sync.logs import configure_logging
from seek_sync.receiver.ats_routes import blob_routes, callback_routes
from seek_sync.receiver.body import TOO_LARGE, read_body, refuse
from seek_sync.runstate.inbox import UNKNOWN_HIRER, Inbox, InboxEvent
from seek_sync.settings import ReceiverSettings

log = logging.getLogger("seek_sync.receiver")

SIGNATURE_HEADER = "Seek-Signature"
REQUEST_ID_HEADER = "X-Request-Id"
# A delivery holds at most 10 small events; anything far bigger is not SEEK.
MAX_WEBHOOK_BYTES = 1_000_000


class SeekWebhookEvent(BaseModel):
    """One event of a webhook delivery; unknown fields are kept, not rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    create_date_time: str = Field(alias="createDateTime", min_length=1)
    candidate_application_profile_id: str | None = Field(
        default=None, alias="candidateApplicationProfileId"
    )
    candidate_id: str | None = Field(default=None, alias="candidateId")
    hirer_id: str | None = Field(default=None, alias="hirerId")


class SeekWebhookBody(BaseModel):
    """A webhook delivery (`url` and `expireDateTime` optional: older SEEK examples omit them)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    events: list[SeekWebhookEvent] = Field(min_length=1, max_length=10)
    subscription_id: str = Field(alias="subscriptionId", min_length=1)
    url: str | None = None
    expire_date_time: str | None = Field(default=None, alias="expireDateTime")


def sign(secret: bytes, body: bytes) -> str:
    """SEEK's signature of a body: lowercase hex HMAC-SHA512."""
    return hmac.new(secret, body, hashlib.sha512).hexdigest()


def signature_ok(secret: bytes, body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), signature.strip().lower().encode())


def inbox_events(body: dict[str, Any], parsed: SeekWebhookBody) -> tuple[list[InboxEvent], int]:
    """The delivery's events as inbox rows (`raw` is each event exactly as SEEK sent it), and how
    many were rejected for a `hirerId` that is not a SEEK hirer id (each logged, never echoed raw).
    An event without a `hirerId` is kept as `unknown_hirer`."""
    rows, rejected = [], 0
    for event, raw in zip(parsed.events, body["events"], strict=True):
        if event.hirer_id is not None and not is_hirer_id(event.hirer_id):
            log.warning(
                "seek webhook event rejected: hirerId %s is not a SEEK hirer id",
                shown(event.hirer_id),
            )
            rejected += 1
            continue
        rows.append(
            InboxEvent(
                event_id=event.id,
                type_code=event.type,
                source="webhook",
                hirer_id=event.hirer_id or UNKNOWN_HIRER,
                profile_id=event.candidate_application_profile_id,
                candidate_id=event.candidate_id,
                created_at=event.create_date_time,
                raw=raw,
            )
        )
    return rows, rejected


def _request_id(request: Request) -> str:
    value = request.headers.get(REQUEST_ID_HEADER, "-")[:80]
    return "".join(c if c.isalnum() or c in "-_.:" else "?" for c in value) or "-"


def seek_webhook_routes(settings: ReceiverSettings, inbox: Inbox) -> list[BaseRoute]:
    """`POST /webhooks/seek`: cap, verify, parse, store, answer 204 (400 when every event has a
    malformed `hirerId`; 413 for a body over `MAX_WEBHOOK_BYTES`)."""
    secret = settings.seek_webhook_secret.get_secret_value().encode()

    async def seek_webhook(request: Request) -> Response:
        started = time.perf_counter()
        request_id = _request_id(request)

        def answer(
            status: int, reason: str, events: int = 0, new: int = 0, rejected: int = 0
        ) -> Response:
            log.info(
                "seek webhook request_id=%s status=%d events=%d new=%d rejected=%d reason=%s "
                "ms=%.1f",
                request_id,
                status,
                events,
                new,
                rejected,
                reason,
                (time.perf_counter() - started) * 1000,
            )
            if status == 204:
                return Response(status_code=204)
            if status == 413:
                return refuse(413, reason)
            return JSONResponse({"error": reason}, status_code=status)

        body = await read_body(request, MAX_WEBHOOK_BYTES)
        if body is None:
            return answer(413, TOO_LARGE)
        if not signature_ok(secret, body, request.headers.get(SIGNATURE_HEADER)):
            return answer(401, "invalid signature")
        try:
            payload = json.loads(body)
            parsed = SeekWebhookBody.model_validate(payload)
        except (ValueError, RecursionError):  # bad JSON or UTF-8, too deep, or a ValidationError
            return answer(401, "not a SEEK webhook")
        events, rejected = inbox_events(payload, parsed)
        if not events:
            return answer(400, "no event has a valid hirerId", rejected=rejected)
        try:
            new = await run_in_threadpool(inbox.add_events, events)
        except Exception as error:  # the inbox is unavailable: SEEK retries non-2xx answers
            log.error("seek webhook request_id=%s inbox write failed: %r", request_id, error)
            return answer(503, "inbox unavailable", len(events))
        return answer(204, "ok", len(events), new, rejected)

    return [Route("/webhooks/seek", seek_webhook, methods=["POST"])]


def health_routes(settings: ReceiverSettings, inbox: Inbox) -> list[BaseRoute]:
    """`GET /healthz`: the inbox answers, with its row counts."""

    async def healthz(request: Request) -> Response:
        counts = await run_in_threadpool(inbox.counts)
        return JSONResponse({"ok": True, "inbox": counts})

    return [Route("/healthz", healthz, methods=["GET"])]


RouteFactory = Callable[[ReceiverSettings, Inbox], list[BaseRoute]]

# Extension point: each later endpoint (ATS callbacks, signed blob URLs) adds a factory here.
ROUTE_FACTORIES: list[RouteFactory] = [
    health_routes,
    seek_webhook_routes,
    callback_routes,
    blob_routes,
]


def create_app(
    settings: ReceiverSettings,
    inbox: Inbox | None = None,
    *,
    route_factories: Sequence[RouteFactory] | None = None,
) -> Starlette:
    """The receiver ASGI app; `inbox` defaults to the one the settings choose."""
    if inbox is None:
        inbox = open_inbox(settings)
    factories = ROUTE_FACTORIES if route_factories is None else route_factories
    routes = [route for make in factories for route in make(settings, inbox)]
    app = Starlette(routes=routes)
    app.state.inbox = inbox
    return app


def _config(app: Starlette, host: str, port: int, **options: Any) -> uvicorn.Config:
    # No access log: the handlers log one line each, without bodies or secrets.
    return uvicorn.Config(app, host=host, port=port, access_log=False, lifespan="off", **options)


def serve(settings: ReceiverSettings, host: str, port: int) -> None:
    """Run the receiver in the foreground (`seek-sync receiver serve`); `SettingsError` before
    listening when the hirer map or a callback secret it names cannot be read."""
    configure_logging()
    app = create_app(settings)
    uvicorn.Server(_config(app, host, port)).run()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


@contextmanager
def running_receiver(
    settings: ReceiverSettings, inbox: Inbox | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """The receiver on a background thread; yields its base URL, e.g. `http://127.0.0.1:54321`."""
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    server = uvicorn.Server(
        _config(
            create_app(settings, inbox), host, bound, log_config=None, timeout_graceful_shutdown=5
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="seek-sync-receiver", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.01)
        netloc = f"[{host}]" if ":" in host else host
        yield f"http://{netloc}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
