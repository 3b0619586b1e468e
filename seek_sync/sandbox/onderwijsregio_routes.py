"""HTTP handlers of the fake Onderwijsregio v2 API (`/api/v2/...`, sandbox at `/api/sandbox/...`).

Every answer, success or error, is the envelope `{statusCode, message, data, meta{sandboxEnabled}}`;
errors carry `data: null` and, for validation, `errors: [{field, message}]`. Writes are validated
against the served JSON Schema, then handed to the Mutation Engine, which has stored and enqueued
the mutation before the 202 leaves (so a lost response still applies exactly once).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from seek_sync.sandbox.faults import RECEIVED
from seek_sync.sandbox.onderwijsregio_creates import emails_of
from seek_sync.sandbox.onderwijsregio_engine import (
    IdempotencyConflict,
    MutationEngine,
    Operation,
    StillRunning,
)
from seek_sync.sandbox.onderwijsregio_schema import (
    ATTACHMENT_FIELDS,
    OPERATIONS,
    SANDBOX_HEADER,
    OnderwijsregioConfig,
)
from seek_sync.sandbox.onderwijsregio_validation import FieldError, SchemaValidator

ACCEPTED = "The mutation request has been accepted for processing."
REPLAY_HEADER = "Idempotent-Replayed"  # set to "true" on an answer replayed for a known key
PREFIX = "/api/{version:v2|sandbox}"
Handler = Callable[[web.Request, bool], Awaitable[web.Response]]


class Refused(Exception):
    def __init__(self, status: int, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or []


def envelope(
    status: int,
    message: str,
    data: Any = None,
    *,
    sandbox: bool,
    meta: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    """The one response shape; `extra` adds top-level keys (`errors`)."""
    body = {
        "statusCode": status,
        "message": message,
        "data": data,
        "meta": {"sandboxEnabled": sandbox, **(meta or {})},
        **extra,
    }
    return web.json_response(body, status=status, headers=headers)


class OnderwijsregioRoutes:
    """The API's handlers over one engine and one served schema."""

    def __init__(
        self, config: OnderwijsregioConfig, engine: MutationEngine, schemas: dict[str, Any]
    ) -> None:
        self.config = config
        self.engine = engine
        self.schemas = schemas
        self.validator = SchemaValidator(schemas["create"])

    def add_routes(self, app: web.Application) -> None:
        r, base = app.router, PREFIX + "/candidates"
        r.add_get(PREFIX + "/schema", self._wrap(self.schema), name="onderwijsregio.schema")
        r.add_get(base + "/find", self._wrap(self.find), name="onderwijsregio.find")
        r.add_get(base, self._wrap(self.list_candidates), name="onderwijsregio.list")
        r.add_post(base, self._wrap(self.create), name="onderwijsregio.create")
        r.add_post(base + "/upsert", self._wrap(self.upsert), name="onderwijsregio.upsert")
        r.add_get(base + "/{id}", self._wrap(self.get), name="onderwijsregio.get")
        attachments = base + "/{id}/attachments"
        r.add_post(attachments, self._wrap(self.attachments), name="onderwijsregio.attachments")
        name = "onderwijsregio.delete_attachments"
        r.add_delete(attachments, self._wrap(self.delete_attachments), name=name)
        r.add_route(
            "*", PREFIX + "/{tail:.*}", self._wrap(self.unknown), name="onderwijsregio.unknown"
        )

    # --- plumbing -------------------------------------------------------------------------------
    def _wrap(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Auth first, then the handler; every refusal becomes an envelope."""

        async def handle(request: web.Request) -> web.Response:
            sandbox = self._sandbox(request)
            key = request.headers.get("x-api-key") or request.headers.get("api-key") or ""
            if not hmac.compare_digest(key.encode(), self.config.api_key.encode()):
                return envelope(401, "Invalid or missing API key", sandbox=sandbox)
            try:
                return await handler(request, sandbox)
            except Refused as refused:
                errors = [e.as_dict() for e in refused.errors]
                extra = {"errors": errors} if errors else {}
                return envelope(refused.status, refused.message, sandbox=sandbox, **extra)
            except web.HTTPException as error:  # e.g. 413 from aiohttp's body size limit
                return envelope(error.status, error.reason, sandbox=sandbox)

        return handle

    @staticmethod
    def _sandbox(request: web.Request) -> bool:
        if request.match_info.get("version") == "sandbox":
            return True
        under_candidates = request.path.startswith("/api/v2/candidates")
        return under_candidates and request.headers.get(SANDBOX_HEADER, "").lower() == "true"

    @staticmethod
    async def _json(request: web.Request) -> Any:
        raw = await request.read()
        if not raw:
            raise Refused(400, "A JSON body is required")
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Refused(400, "Body is not valid JSON") from None

    def _validate(self, definition: str, body: Any) -> None:
        errors = self.validator.errors(definition, body)
        if errors:
            message = f"Validation failed: {errors[0]}"
            raise Refused(self.config.validation_status, message, errors)

    def _candidate(self, request: web.Request, sandbox: bool, candidate_id: str) -> dict[str, Any]:
        record = self.engine.stores[sandbox].candidates.get(candidate_id)
        if record is None:
            raise Refused(404, f"Candidate {candidate_id} not found")
        files = self.engine.stores[sandbox].files
        base = f"{request.scheme}://{request.host}"
        shown = {k: v for k, v in record.items() if k not in ATTACHMENT_FIELDS}
        for name in ATTACHMENT_FIELDS:
            shown[name] = [files[i].public(base) for i in record[name] if i in files]
        return shown

    def _control(self, request: web.Request, body: Any) -> tuple[str | None, str | None]:
        """(idempotency key, callback URL): the header wins over the body field (popped)."""
        c = self.config
        from_body = body if isinstance(body, dict) else {}
        body_key = from_body.pop(c.idempotency_body_field, None)
        body_callback = from_body.pop(c.callback_body_field, None)
        key = request.headers.get(c.idempotency_header) or body_key
        callback = request.headers.get(c.callback_header) or body_callback
        if key is not None and not 1 <= len(key) <= 255:
            raise Refused(400, "The idempotency key must be 1 to 255 characters")
        if callback is not None and not callback.startswith(("http://", "https://")):
            raise Refused(400, "The callback URL must be an http(s) URL")
        return key, callback

    async def _submit(
        self,
        request: web.Request,
        sandbox: bool,
        operation: Operation,
        body: Any,
        candidate_id: str | None = None,
    ) -> web.Response:
        key, callback = self._control(request, body)
        try:
            mutation, replayed = self.engine.submit(
                sandbox, operation, body, key=key, callback_url=callback, candidate_id=candidate_id
            )
        except IdempotencyConflict:
            error = FieldError("idempotencyKey", "reused with a different payload")
            raise Refused(422, "idempotency key reused with a different payload", [error]) from None
        except StillRunning:
            raise Refused(409, "A request with this idempotency key is still processing") from None
        if operation == "create":  # its span is kept: two of one person at once make two
            started = request.get(RECEIVED, time.time())
            emails = emails_of(body)
            await self.engine.creates.accepted(request, mutation.key, emails, started, replayed)
        data = {"status": "accepted", "idempotencyKey": mutation.key, "message": ACCEPTED}
        headers = {REPLAY_HEADER: "true"} if replayed else None
        return envelope(202, ACCEPTED, data, sandbox=sandbox, headers=headers)

    # --- reads ----------------------------------------------------------------------------------
    async def schema(self, request: web.Request, sandbox: bool) -> web.Response:
        operation = request.query.get("operation", "create")
        if operation not in OPERATIONS:
            raise Refused(400, "operation must be one of: " + ", ".join(OPERATIONS))
        return envelope(200, "OK", self.schemas[operation], sandbox=sandbox)

    async def get(self, request: web.Request, sandbox: bool) -> web.Response:
        found = self._candidate(request, sandbox, request.match_info["id"])
        return envelope(200, "OK", found, sandbox=sandbox)

    async def find(self, request: web.Request, sandbox: bool) -> web.Response:
        email, phone = request.query.get("email", "").strip(), request.query.get("phone", "")
        if not email and not phone:
            raise Refused(400, "email or phone is required", [FieldError("email", "is required")])
        found = self.engine.find(sandbox, email=email or None, phone=phone or None)
        if found is None:
            raise Refused(404, "No candidate matches")
        return envelope(200, "OK", self._candidate(request, sandbox, found["id"]), sandbox=sandbox)

    async def list_candidates(self, request: web.Request, sandbox: bool) -> web.Response:
        size_text = request.query.get("pageSize", str(self.config.max_page_size))
        if not size_text.isdigit() or not 1 <= int(size_text) <= self.config.max_page_size:
            limit = self.config.max_page_size
            error = FieldError("pageSize", f"must be an integer from 1 to {limit}")
            raise Refused(400, f"pageSize {error.message}", [error])
        size, start = int(size_text), self._offset(request.query.get("cursor"))
        ids = list(self.engine.stores[sandbox].candidates)
        page = [self._candidate(request, sandbox, i) for i in ids[start : start + size]]
        after = start + size
        cursor = (
            base64.urlsafe_b64encode(f"o:{after}".encode()).decode() if after < len(ids) else None
        )
        return envelope(200, "OK", page, sandbox=sandbox, meta={"cursor": cursor})

    @staticmethod
    def _offset(cursor: str | None) -> int:
        if not cursor:
            return 0
        try:
            text = base64.urlsafe_b64decode(cursor.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = ""
        if not text.startswith("o:") or not text[2:].isdigit():
            raise Refused(400, "cursor is not valid", [FieldError("cursor", "is not valid")])
        return int(text[2:])

    async def unknown(self, request: web.Request, sandbox: bool) -> web.Response:
        raise Refused(404, f"No route {request.method} {request.path}")

    # --- writes ---------------------------------------------------------------------------------
    async def create(self, request: web.Request, sandbox: bool) -> web.Response:
        body = await self._json(request)
        self._validate("createRequest", body)
        return await self._submit(request, sandbox, "create", body)

    async def upsert(self, request: web.Request, sandbox: bool) -> web.Response:
        body = await self._json(request)
        self._validate("upsertRequest", body)
        return await self._submit(request, sandbox, "upsert", body)

    async def attachments(self, request: web.Request, sandbox: bool) -> web.Response:
        """Unknown candidate: 404 at request time (existence is checked before the 202)."""
        body = await self._json(request)
        self._validate("attachmentsRequest", body)
        candidate_id = request.match_info["id"]
        self._candidate(request, sandbox, candidate_id)
        return await self._submit(request, sandbox, "attachments", body, candidate_id)

    async def delete_attachments(self, request: web.Request, sandbox: bool) -> web.Response:
        """Unknown candidate: 404 now; an id not on the candidate fails the mutation after 202."""
        body = await self._json(request)
        self._validate("deleteAttachmentsRequest", body)
        candidate_id = request.match_info["id"]
        self._candidate(request, sandbox, candidate_id)
        return await self._submit(request, sandbox, "delete_attachments", body, candidate_id)
