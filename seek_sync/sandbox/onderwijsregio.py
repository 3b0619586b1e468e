"""Fake Onderwijsregio v2 (first cut): `x-api-key`, the envelope, find/get, create and attachments
through an asynchronous mutation engine with idempotency keys and signed callbacks.

Written from ats-apis.md and seed 002, not from our client. Unconfirmed wire details are the
constants below (the client has its own copies as settings; tests name each assumption).
Not yet served: `GET /schema`, list, upsert, DELETE, the `/api/sandbox` prefix.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

# Assumptions (unconfirmed in the reference), in one place.
FILENAME_FIELD, DATA_FIELD, URL_FIELD = "filename", "data", "url"
IDEMPOTENCY_HEADER, CALLBACK_HEADER = "Idempotency-Key", "x-callback-url"
FIELDS = ("curriculumVitae", "otherAttachments")
# fmt: off
ALLOWED = frozenset({
    "image/png", "image/jpeg", "image/webp", "image/gif", "image/heic", "image/heif",
    "application/pdf", "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text", "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "text/plain", "text/markdown", "text/csv", "application/rtf", "application/json",
    "application/xml",
})
# fmt: on


def callback_signing_string(path_and_query: str, body: bytes, timestamp: str, nonce: str) -> bytes:
    """ASSUMPTION: `{timestamp}.{nonce}.{path?query}.` followed by the raw body."""
    return f"{timestamp}.{nonce}.{path_and_query}.".encode() + body


@dataclass
class OnderwijsregioConfig:
    api_key: str = "sandbox-onderwijsregio-key-0123456789"
    callback_secret: str = "sandbox-onderwijsregio-callback-secret-0123"
    data_limit: int = 5_000_000
    url_limit: int = 25_000_000
    per_field: int = 5
    delay_seconds: float = 0.05


@dataclass
class Mutation:
    key: str
    fingerprint: str
    operation: str
    payload: Any
    candidate_id: str | None
    callback_url: str | None
    status: str = "queued"  # queued -> succeeded | failed
    candidate_ids: list[str] = field(default_factory=list)
    error: str | None = None


class Invalid(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        self.field_name = field_name
        super().__init__(f"{field_name}: {message}")


class OnderwijsregioFake:
    """Candidates, stored attachments and the mutation queue; counts for tests."""

    def __init__(self, config: OnderwijsregioConfig | None = None) -> None:
        self.config = config or OnderwijsregioConfig()
        self.candidates: dict[str, dict[str, Any]] = {}
        self.mutations: dict[str, Mutation] = {}
        self.queue: asyncio.Queue[Mutation] | None = None
        self.uploads: list[dict[str, Any]] = []  # every stored file: candidate, field, name, sha256
        self.applied = self.replayed = self.callbacks_sent = 0
        self.lose_callbacks = self.fail_after_accept = 0
        self._worker: asyncio.Task[None] | None = None

    # --- plumbing -----------------------------------------------------------------------------
    def info(self, base_url: str) -> dict[str, Any]:
        return {
            "onderwijsregio_url": f"{base_url}/api/v2",
            "onderwijsregio_api_key": self.config.api_key,
            "onderwijsregio_callback_secret": self.config.callback_secret,
        }

    def add_routes(self, app: web.Application) -> None:
        r, base = app.router, "/api/v2/candidates"
        r.add_get(base + "/find", self.find, name="onderwijsregio.find")
        r.add_get(base + "/{id}", self.get, name="onderwijsregio.get")
        r.add_post(base, self.create, name="onderwijsregio.create")
        r.add_post(base + "/{id}/attachments", self.attachments, name="onderwijsregio.attachments")
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)

    async def _start(self, app: web.Application) -> None:
        self.queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._run())

    async def _stop(self, app: web.Application) -> None:
        if self._worker:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    @staticmethod
    def envelope(status: int, message: str, data: Any = None, **extra: Any) -> web.Response:
        body = {
            "statusCode": status,
            "message": message,
            "data": data,
            "meta": {"sandboxEnabled": False},
        }
        return web.json_response({**body, **extra}, status=status)

    def _authorised(self, request: web.Request) -> bool:
        key = request.headers.get("x-api-key") or request.headers.get("api-key")
        return key is not None and hmac.compare_digest(key, self.config.api_key)

    # --- reads --------------------------------------------------------------------------------
    async def find(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self.envelope(401, "Invalid or missing API key")
        email = request.query.get("email", "").lower()
        for candidate in self.candidates.values():
            if email and (candidate.get("email") or "").lower() == email:
                return self.envelope(200, "OK", candidate)
        return self.envelope(404, "Candidate not found")

    async def get(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self.envelope(401, "Invalid or missing API key")
        candidate = self.candidates.get(request.match_info["id"])
        if candidate is None:
            return self.envelope(404, "Candidate not found")
        return self.envelope(200, "OK", candidate)

    # --- writes ---------------------------------------------------------------------------------
    def _validate_files(self, body: dict[str, Any], *, required: bool) -> None:
        present = [f for f in FIELDS if body.get(f)]
        if required and not present:
            raise Invalid("curriculumVitae|otherAttachments", "at least one field is required")
        for name in present:
            items = body[name]
            if not isinstance(items, list) or len(items) > self.config.per_field:
                raise Invalid(name, f"at most {self.config.per_field} files per field")
            for index, item in enumerate(items):
                where = f"{name}[{index}]"
                if not isinstance(item, dict) or not item.get(FILENAME_FIELD):
                    raise Invalid(f"{where}.{FILENAME_FIELD}", "filename is required")
                if (DATA_FIELD in item) == (URL_FIELD in item):
                    raise Invalid(where, f"exactly one of {DATA_FIELD} or {URL_FIELD}")
                if DATA_FIELD in item:
                    self._check_data(f"{where}.{DATA_FIELD}", item[DATA_FIELD])
                elif not str(item[URL_FIELD]).startswith(("http://", "https://")):
                    raise Invalid(f"{where}.{URL_FIELD}", "must be an http(s) URL")

    def _check_data(self, where: str, value: Any) -> bytes:
        head, _, encoded = str(value).partition(";base64,")
        mime = head.removeprefix("data:")
        if not head.startswith("data:") or not encoded:
            raise Invalid(where, "must be a base64 data URI")
        if mime not in ALLOWED:
            raise Invalid(where, f"type {mime} is not allowed")
        try:
            data = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise Invalid(where, "invalid base64") from None
        if len(data) > self.config.data_limit:
            raise Invalid(where, f"over the {self.config.data_limit}-byte data limit")
        return data

    async def _accept(
        self, request: web.Request, operation: str, payload: Any, candidate_id: str | None
    ) -> web.Response:
        fingerprint = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = request.headers.get(IDEMPOTENCY_HEADER) or secrets.token_hex(16)
        known = self.mutations.get(key)
        if known is not None:
            if known.fingerprint != fingerprint:
                return self.envelope(422, "idempotency key reused with a different payload")
            self.replayed += 1
        else:
            callback = request.headers.get(CALLBACK_HEADER)
            known = Mutation(key, fingerprint, operation, payload, candidate_id, callback)
            self.mutations[key] = known
            assert self.queue is not None
            self.queue.put_nowait(known)
        message = "The mutation request has been accepted for processing."
        data = {"status": "accepted", "idempotencyKey": key, "message": message}
        return self.envelope(202, message, data)

    async def create(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self.envelope(401, "Invalid or missing API key")
        body = await request.json()
        if not isinstance(body, list) or not 1 <= len(body) <= 10:
            return self.envelope(400, "Body must be an array of 1 to 10 candidates")
        try:
            for candidate in body:
                self._validate_files(candidate, required=False)
        except Invalid as error:
            return self.envelope(422, str(error), errors=[{"field": error.field_name}])
        return await self._accept(request, "create", body, None)

    async def attachments(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self.envelope(401, "Invalid or missing API key")
        candidate_id = request.match_info["id"]
        if candidate_id not in self.candidates:
            return self.envelope(404, "Candidate not found")
        body = await request.json()
        try:
            self._validate_files(body if isinstance(body, dict) else {}, required=True)
        except Invalid as error:
            return self.envelope(422, str(error), errors=[{"field": error.field_name}])
        return await self._accept(request, "attachments", body, candidate_id)

    # --- the engine -----------------------------------------------------------------------------
    async def _run(self) -> None:
        assert self.queue is not None
        async with aiohttp.ClientSession() as session:
            while True:
                mutation = await self.queue.get()
                await asyncio.sleep(self.config.delay_seconds)
                try:
                    if self.fail_after_accept > 0:
                        self.fail_after_accept -= 1
                        raise Invalid("mutation", "failed after it was accepted")
                    await self._apply(session, mutation)
                    mutation.status = "succeeded"
                    self.applied += 1
                except Invalid as error:
                    mutation.status, mutation.error = "failed", str(error)
                await self._callback(session, mutation)

    async def _stored(self, session: aiohttp.ClientSession, item: dict[str, Any]) -> dict[str, Any]:
        if DATA_FIELD in item:
            data = self._check_data("data", item[DATA_FIELD])
            mime = str(item[DATA_FIELD])[5:].partition(";")[0]
        else:
            async with session.get(item[URL_FIELD]) as response:
                mime = response.headers.get("Content-Type", "").partition(";")[0]
                if response.status != 200 or mime not in ALLOWED:
                    raise Invalid("url", f"fetch refused (HTTP {response.status}, type {mime})")
                buffer = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    buffer += chunk
                    if len(buffer) > self.config.url_limit:
                        raise Invalid("url", f"over the {self.config.url_limit}-byte URL limit")
                data = bytes(buffer)
        sha = hashlib.sha256(data).hexdigest()
        name = item[FILENAME_FIELD]
        return {
            "id": "att" + secrets.token_hex(7),
            "filename": name,
            "size": len(data),
            "type": mime,
            "sha256": sha,
        }

    async def _apply(self, session: aiohttp.ClientSession, mutation: Mutation) -> None:
        targets = (
            [(mutation.candidate_id, mutation.payload)]
            if mutation.operation == "attachments"
            else [(None, c) for c in mutation.payload]
        )
        for candidate_id, body in targets:
            files = {f: [await self._stored(session, i) for i in body.get(f) or []] for f in FIELDS}
            if candidate_id is None:
                candidate_id = "rec" + secrets.token_hex(7)
                person = {k: v for k, v in body.items() if k not in FIELDS}
                self.candidates[candidate_id] = {
                    "id": candidate_id,
                    **person,
                    **{f: [] for f in FIELDS},
                }
            for name, stored in files.items():
                self.candidates[candidate_id][name].extend(stored)
                self.uploads += [{"candidate_id": candidate_id, "field": name, **s} for s in stored]
            mutation.candidate_ids.append(candidate_id)

    async def _callback(self, session: aiohttp.ClientSession, mutation: Mutation) -> None:
        if not mutation.callback_url:
            return
        if self.lose_callbacks > 0:
            self.lose_callbacks -= 1
            return
        result = {
            "idempotencyKey": mutation.key,
            "status": mutation.status,
            "operation": mutation.operation,
            "candidateIds": mutation.candidate_ids,
            "error": mutation.error,
            "completedAt": int(time.time()),
        }
        body = json.dumps(result).encode()
        url = URL(mutation.callback_url)
        stamp, nonce = str(int(time.time())), secrets.token_hex(12)
        signed = callback_signing_string(url.path_qs, body, stamp, nonce)
        digest = hmac.new(self.config.callback_secret.encode(), signed, hashlib.sha256).digest()
        headers = {
            "Content-Type": "application/json",
            "x-mutationengine-timestamp": stamp,
            "x-mutationengine-nonce": nonce,
            "x-mutationengine-signature": "v2=" + base64.b64encode(digest).decode(),
        }
        for attempt in range(3):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.post(
                    mutation.callback_url, data=body, headers=headers
                ) as answer:
                    if answer.status < 300:
                        self.callbacks_sent += 1
                        return
            await asyncio.sleep(0.1 * 2**attempt)
