"""Receiver routes for the ATS side: Onderwijsregio callbacks and signed blob URLs.

`POST /callbacks/onderwijsregio` checks the Mutation Engine's signature and timestamp (keyed per
hirer, see `receiver_config`), refuses a replayed nonce, and stores the result in the inbox; the
pipeline applies it later. Bodies are capped before they are read and verified before parsed.
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
from seek_sync.backend import open_blobs
from seek_sync.ids import is_hirer_id, shown
from seek_sync.receiver.body import TOO_LARGE, declared_too_large, read_body, refuse
from seek_sync.receiver.config import callback_secrets
from seek_sync.runstate.inbox import UNKNOWN_HIRER, Inbox, InboxCallback
from seek_sync.settings import ReceiverSettings
from seek_sync.store.blobs import BlobStore
from seek_sync.store.signed_urls import BLOB_PREFIX, verify_blob_request

log = logging.getLogger("seek_sync.receiver")

CHUNK = 256 * 1024
MAX_CALLBACK_BYTES = 1_000_000


def callback_routes(settings: ReceiverSettings, inbox: Inbox) -> list[BaseRoute]:
    """`POST /callbacks/onderwijsregio`: 204 stored, 401 bad or stale signature, 409 replay, 400 a
    malformed `hirer` or body, 413 a body over `MAX_CALLBACK_BYTES`."""
    secrets = callback_secrets(settings)  # read once, at start
    tolerance = settings.onderwijsregio_callback_tolerance_seconds

    async def onderwijsregio(request: Request) -> Response:
        hirers = request.query_params.getlist("hirer")
        if len(hirers) > 1 or not all(is_hirer_id(h) for h in hirers):
            log.info("onderwijsregio callback refused: hirer %s", shown(hirers[-1]))
            return refuse(400, "hirer is not a SEEK hirer id")
        hirer = hirers[0] if hirers else None
        if declared_too_large(request, MAX_CALLBACK_BYTES):
            return refuse(413, TOO_LARGE)
        secret = secrets.for_hirer(hirer)
        if secret is None:
            return refuse(401, "callbacks are not accepted")
        body = await read_body(request, MAX_CALLBACK_BYTES)
        if body is None:
            return refuse(413, TOO_LARGE)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = {k.lower(): v for k, v in request.headers.items()}
        refused = callbacks.verify(secret, path, body, headers, tolerance_seconds=tolerance)
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
            hirer_id=hirer or UNKNOWN_HIRER,
            idempotency_key=parsed.idempotency_key,
            status=parsed.status,
            raw=parsed.model_dump(by_alias=True),
        )
        if await run_in_threadpool(inbox.add_callbacks, [row]) == 0:
            log.info("onderwijsregio callback refused: replayed nonce")
            return JSONResponse({"error": "replayed nonce"}, status_code=409)
        log.info("onderwijsregio callback stored: status=%s", shown(parsed.status))
        return Response(status_code=204)

    return [Route("/callbacks/onderwijsregio", onderwijsregio, methods=["POST"])]


def _chunks(store: BlobStore, key: str) -> Iterator[bytes]:
    with store.open(key) as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def blob_routes(settings: ReceiverSettings, inbox: Inbox) -> list[BaseRoute]:
    """`GET /blobs/{key}`: a stored file for a valid, unexpired signature; 403 otherwise; 413 for
    a request with a body (a GET has none)."""
    secret = settings.blob_signing_secret
    store = open_blobs(settings)  # local or S3: the same signed route

    async def blob(request: Request) -> Response:
        if await read_body(request, 0) is None:
            return refuse(413, TOO_LARGE)
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
