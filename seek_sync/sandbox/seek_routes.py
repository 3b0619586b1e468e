"""The fake SEEK endpoints: `POST /oauth/token`, `POST /graphql` and attachment downloads (with
partner tokens, or browser tokens as `browser_tokens.py` allows them)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from http import HTTPStatus
from urllib.parse import quote

from aiohttp import web

from seek_sync.sandbox import browser_tokens, files
from seek_sync.sandbox.faults import Fault
from seek_sync.sandbox.graphql_api import RequestContext, execute_graphql, graphql_error
from seek_sync.sandbox.kill import drain, kill_and_drop
from seek_sync.sandbox.state import FAULT, STATE, SandboxState
from seek_sync.sandbox.world import AttachmentRecord
from seek_sync.sandbox.world_deletion import gone_status

log = logging.getLogger("seek_sync.sandbox.seek")

ATTACHMENT_PATH = "/{prefix}/applications/{application_id}/attachments/{attachment_id}"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


async def token(request: web.Request) -> web.Response:
    """Client-credentials grant with a JSON body, as SEEK's partner token endpoint."""
    state: SandboxState = request.app[STATE]
    if request.content_type != "application/json":
        return _oauth_error(400, "invalid_request", "Content-Type must be application/json")
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return _oauth_error(400, "invalid_request", "Body is not valid JSON")
    if not isinstance(body, dict):
        return _oauth_error(400, "invalid_request", "Body must be a JSON object")
    if body.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported")
    config = state.config
    if body.get("client_id") != config.client_id or body.get("client_secret") != (
        config.client_secret
    ):
        return _oauth_error(401, "access_denied", "Unauthorized")
    if body.get("audience") != config.audience:
        return _oauth_error(403, "access_denied", f"Service not found: {body.get('audience')}")
    grant = state.tokens.issue()
    return web.json_response(
        {
            "access_token": grant.access_token,
            "expires_in": grant.expires_in,
            "token_type": grant.token_type,
        }
    )


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def graphql(request: web.Request) -> web.Response:
    """GraphQL over POST; like SEEK, failures are HTTP 200 with `errors[].extensions.code`."""
    state: SandboxState = request.app[STATE]
    authorization = request.headers.get("Authorization")
    browser = None if state.tokens.valid(authorization) else state.tokens.browser(authorization)
    if browser is None and not state.tokens.valid(authorization):
        error = graphql_error("Missing or expired partner token", "UNAUTHENTICATED")
        return web.json_response({"errors": [error]})
    raw = await request.read()
    cache = state.byte_cache if state.config.byte_cache else None
    if cache is not None and raw in cache:
        return web.Response(body=cache[raw], content_type="application/json")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    refused = browser_tokens.refused_fields(browser, body) if browser else []
    if refused:
        errors = [
            graphql_error(f"{f} accepts only partner tokens", "FORBIDDEN", [f]) for f in refused
        ]
        return web.json_response({"data": None, "errors": errors})
    result = await execute_graphql(RequestContext(world=state.world, origin=_origin(request)), body)
    answer = json.dumps(result).encode()
    if cache is not None and "errors" not in result:
        cache[raw] = answer
    return web.Response(body=answer, content_type="application/json")


def content_disposition(filename: str) -> str:
    """RFC 6266 header: an ASCII fallback plus the exact name as RFC 5987 `filename*`."""
    fallback = _CONTROL.sub("", filename).encode("ascii", "replace").decode().replace("?", "_")
    fallback = fallback.replace("\\", "\\\\").replace('"', '\\"')
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _headers(record: AttachmentRecord) -> dict[str, str]:
    return {
        "Content-Type": record.declared_type,
        "Content-Length": str(record.size),
        "Content-Disposition": content_disposition(record.filename),
        "Last-Modified": "Mon, 02 Nov 2026 09:00:00 GMT",
    }


def _cached_file(state: SandboxState, record: AttachmentRecord) -> bytes:
    """The file's bytes, rendered on its first download only (`byte_cache`)."""
    key = f"{record.application_id}/{record.id}"
    found = state.byte_cache.get(key)
    if found is None:
        found = files.render_file(record.kind, record.size, record.seed, record.title, record.lines)
        state.byte_cache[key] = found
    return found


async def attachment(request: web.Request) -> web.StreamResponse:
    """Attachment download (GET or HEAD); a partner token, or a browser token with the download
    scope for the application's hirer (403 for another hirer's); 404 once removed; once its
    application (or candidate) is deleted, 404 or 403 as configured."""
    state: SandboxState = request.app[STATE]
    application_id = request.match_info["application_id"]
    authorization = request.headers.get("Authorization")
    if not state.tokens.valid(authorization):
        browser = state.tokens.browser(authorization)
        if browser is None:
            return web.json_response({"message": "Unauthorized"}, status=401)
        application = state.world.by_application_id.get(application_id)
        if not browser_tokens.may_download(browser, application and application.hirer_id):
            return web.json_response({"message": "Forbidden"}, status=403)
    record = state.world.attachment(application_id, request.match_info["attachment_id"])
    if record is None or record.removed:
        status = gone_status(state.world, application_id, state.config.deleted_attachment_status)
        return web.json_response({"message": HTTPStatus(status).phrase}, status=status)
    response = web.StreamResponse(headers=_headers(record))
    response.content_length = record.size
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    fault: Fault | None = request.get(FAULT)
    if state.config.byte_cache and fault is None:
        await response.write(_cached_file(state, record))
        await response.write_eof()
        return response
    cut = fault is not None and fault.kind in ("truncate", "kill")
    limit = record.size // 2 if cut else record.size
    pause = fault.delay / 32 if fault and fault.kind == "slow_body" else 0.0
    chunk_size = max(1024, record.size // 32) if pause else 256 * 1024
    sent = 0
    for chunk in files.stream_file(
        record.kind, record.size, record.seed, record.title, record.lines, chunk_size
    ):
        piece = chunk[: limit - sent]
        await response.write(piece)
        sent += len(piece)
        if sent >= limit:
            break
        if pause:
            await asyncio.sleep(pause)
    if fault is not None and fault.kind == "kill":
        await drain(request)  # about half the body has reached the client: now kill it
        await kill_and_drop(request, fault)
        return response
    if sent < record.size and request.transport is not None:
        request.transport.abort()  # the client sees fewer bytes than Content-Length promised
        return response
    await response.write_eof()
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/oauth/token", token, name="token")
    app.router.add_post("/graphql", graphql, name="graphql")
    app.router.add_get(ATTACHMENT_PATH, attachment, name="attachment")
