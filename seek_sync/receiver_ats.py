"""Receiver routes for the ATS side: Onderwijsregio callbacks and signed blob URLs.

`POST /callbacks/onderwijsregio` checks the Mutation Engine's signature and timestamp, refuses a
replayed nonce, and stores the result in the inbox; the pipeline applies it later.
`GET /blobs/{key}?expires=&type=&signature=` serves a stored file only for a valid HMAC signature
and an unexpired time, so an ATS can fetch a file too big to send inline with no other credential.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import unquote

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from seek_sync.ats import callbacks
from seek_sync.inbox import UNKNOWN_HIRER, Inbox, InboxCallback
from seek_sync.settings import Settings
from seek_sync.store.blobs import BlobStore
from seek_sync.store.signed_urls import BLOB_PREFIX, verify_blob_request

log = logging.getLogger("seek_sync.receiver")

CHUNK = 256 * 1024
MAX_CALLBACK_BYTES = 1_000_000


def callback_routes(settings: Settings, inbox: Inbox) -> list[BaseRoute]:
    """`POST /callbacks/onderwijsregio`: 204 stored, 401 bad or stale signature, 409 replay."""
    secret = settings.onderwijsregio_callback_secret
    tolerance = settings.onderwijsregio_callback_tolerance_seconds

    async def onderwijsregio(request: Request) -> Response:
        body = await request.body()
        if secret is None or len(body) > MAX_CALLBACK_BYTES:
            return JSONResponse({"error": "callbacks are not accepted"}, status_code=401)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = {k.lower(): v for k, v in request.headers.items()}
        refused = callbacks.verify(
            secret.get_secret_value().encode(), path, body, headers, tolerance_seconds=tolerance
        )
        if refused:
            log.info("onderwijsregio callback refused: %s", refused)
            return JSONResponse({"error": refused}, status_code=401)
        try:
            parsed = callbacks.MutationCallback.model_validate_json(body)
        except ValueError:
            return JSONResponse({"error": "not a mutation result"}, status_code=400)
        row = InboxCallback(
            callback_id=f"onderwijsregio:{headers[callbacks.NONCE_HEADER]}",
            target="onderwijsregio",
            hirer_id=request.query_params.get("hirer", UNKNOWN_HIRER),
            idempotency_key=parsed.idempotency_key,
            status=parsed.status,
            raw=parsed.model_dump(by_alias=True),
        )
        if await run_in_threadpool(inbox.add_callbacks, [row]) == 0:
            log.info("onderwijsregio callback refused: replayed nonce")
            return JSONResponse({"error": "replayed nonce"}, status_code=409)
        log.info("onderwijsregio callback stored: status=%s", parsed.status)
        return Response(status_code=204)

    return [Route("/callbacks/onderwijsregio", onderwijsregio, methods=["POST"])]


def _chunks(store: BlobStore, key: str) -> Iterator[bytes]:
    with store.open(key) as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def blob_routes(settings: Settings, inbox: Inbox) -> list[BaseRoute]:
    """`GET /blobs/{key}`: a stored file for a valid, unexpired signature; 403 otherwise."""
    secret = settings.blob_signing_secret
    assert settings.blob_url is not None  # filled in by the settings model
    store = BlobStore(settings.blob_url)

    async def blob(request: Request) -> Response:
        raw_path = request.scope.get("raw_path", b"").decode("ascii", "replace").split("?")[0]
        query = request.query_params
        content_type = query.get("type")
        if secret is None or not verify_blob_request(
            raw_path,
            query.get("expires"),
            content_type,
            query.get("signature"),
            secret.get_secret_value().encode(),
        ):
            log.info("blob request refused: bad or expired signature")
            return JSONResponse({"error": "invalid or expired signature"}, status_code=403)
        key = unquote(raw_path.removeprefix(BLOB_PREFIX))
        if not await run_in_threadpool(store.exists, key):
            return JSONResponse({"error": "not found"}, status_code=404)
        size = await run_in_threadpool(store.size, key)
        return StreamingResponse(
            iterate_in_threadpool(_chunks(store, key)),
            media_type=content_type,
            headers={"Content-Length": str(size), "Cache-Control": "no-store"},
        )

    return [Route(BLOB_PREFIX + "{key:path}", blob, methods=["GET", "HEAD"])]
