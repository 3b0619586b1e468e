"""Receiver routes for the ATS side: signed blob URLs (later also ATS callbacks).

`GET /blobs/{key}?expires=&signature=` serves a stored file only for a valid HMAC signature and an
unexpired time, so an ATS can fetch a file too big to send inline without any other credential.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import unquote

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from seek_sync.inbox import Inbox
from seek_sync.settings import Settings
from seek_sync.store.blobs import BlobStore
from seek_sync.store.signed_urls import BLOB_PREFIX, verify_blob_request

log = logging.getLogger("seek_sync.receiver")

CHUNK = 256 * 1024


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
