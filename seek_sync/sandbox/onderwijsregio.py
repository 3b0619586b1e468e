"""Fake Onderwijsregio v2: the candidates and attachments API with its asynchronous Mutation Engine.

Written from `reference/ats-apis.md` §1 and seed 002, not from our client. Pieces:
`onderwijsregio_schema` (settings, every unconfirmed assumption, the served JSON Schema),
`onderwijsregio_validation` (requests checked against that schema), `onderwijsregio_routes` (the
HTTP API), `onderwijsregio_engine` (queue, idempotency), `onderwijsregio_callbacks` (signed
results), `onderwijsregio_files` (decoding and fetching files) and `onderwijsregio_creates` (each
create's span, for tests that count creates of one person at once). This module is the `FakeApi`
the sandbox server mounts, plus the control surface tests use, in Python and under
`/_sandbox/onderwijsregio/`.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from seek_sync.sandbox.onderwijsregio_creates import count
from seek_sync.sandbox.onderwijsregio_engine import MutationEngine
from seek_sync.sandbox.onderwijsregio_files import FILES_PATH
from seek_sync.sandbox.onderwijsregio_routes import OnderwijsregioRoutes
from seek_sync.sandbox.onderwijsregio_schema import (
    ATTACHMENT_FIELDS,
    OPERATIONS,
    OnderwijsregioConfig,
    candidate_schema,
)
from seek_sync.sandbox.received import NOT_KEPT

if TYPE_CHECKING:
    from seek_sync.sandbox.state import SandboxState

__all__ = ["OnderwijsregioConfig", "OnderwijsregioFake", "OnderwijsregioFaults"]

ADMIN = "/_sandbox/onderwijsregio"


class OnderwijsregioFaults(BaseModel):
    """Body of `POST /_sandbox/onderwijsregio/faults`; fields left out are not changed."""

    lose_callbacks: int | None = Field(default=None, ge=0)
    late_callbacks: float | None = Field(default=None, ge=0)
    fail_after_accept: int | None = Field(default=None, ge=0)
    failed_key_reruns: bool | None = None
    replay_callbacks: bool | None = None


class OnderwijsregioFake:
    """The fake as the sandbox mounts it (`add_routes`, `info`) and as tests drive it."""

    def __init__(
        self, config: OnderwijsregioConfig | None = None, state: SandboxState | None = None
    ) -> None:
        self.config = config or OnderwijsregioConfig()
        self.state = state
        self.engine = MutationEngine(self.config, state.received if state else None)
        self.schemas = {op: candidate_schema(self.config, op) for op in OPERATIONS}
        self.routes = OnderwijsregioRoutes(self.config, self.engine, self.schemas)

    # --- FakeApi ----------------------------------------------------------------------------------
    def info(self, base_url: str) -> dict[str, Any]:
        return {
            "onderwijsregio_url": f"{base_url}/api/v2",
            "onderwijsregio_api_key": self.config.api_key,
            "onderwijsregio_callback_secret": self.config.callback_secret,
        }

    def add_routes(self, app: web.Application) -> None:
        self.routes.add_routes(app)
        r = app.router
        r.add_get(ADMIN + "/state", self._get_state, name="admin.onderwijsregio.state")
        r.add_post(ADMIN + "/faults", self._post_faults, name="admin.onderwijsregio.faults")
        r.add_get(ADMIN + "/creates", self._get_creates, name="admin.onderwijsregio.creates")
        r.add_get(FILES_PATH + "/{id}", self._get_file, name="admin.onderwijsregio.file")
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)

    async def _start(self, app: web.Application) -> None:
        await self.engine.start()

    async def _stop(self, app: web.Application) -> None:
        await self.engine.stop()

    # --- Python control surface -------------------------------------------------------------------
    def candidates(self, sandbox: bool = False) -> list[dict[str, Any]]:
        """Every candidate of a store, attachments as records (with sha256, without bytes)."""
        store = self.engine.stores[sandbox]
        shown = []
        for record in list(store.candidates.values()):
            candidate = dict(record)
            for name in ATTACHMENT_FIELDS:
                candidate[name] = [
                    store.files[i].record() for i in record[name] if i in store.files
                ]
            shown.append(candidate)
        return shown

    @property
    def uploads(self) -> list[dict[str, Any]]:
        """Every file ever stored, in order: id, candidate_id, field, filename, size, type,
        sha256, source (data|url), operation (the route), sandbox."""
        return [f.record() for f in list(self.engine.uploads)]

    def uploads_received(self, filename_or_sha: str) -> int:
        """How many stored files have this filename or SHA-256."""
        return sum(filename_or_sha in (u["filename"], u["sha256"]) for u in self.uploads)

    def set_faults(
        self,
        *,
        lose_callbacks: int | None = None,
        late_callbacks: float | None = None,
        fail_after_accept: int | None = None,
        failed_key_reruns: bool | None = None,
        replay_callbacks: bool | None = None,
    ) -> None:
        """Fault toggles: lose the next N callbacks, delay every callback, fail the next N
        mutations after their 202; whether a replayed failed key runs again, and whether a
        replay of a finished mutation sends its result again."""
        if failed_key_reruns is not None:
            self.engine.failed_key_reruns = failed_key_reruns
        if replay_callbacks is not None:
            self.engine.replay_callbacks = replay_callbacks
        if lose_callbacks is not None:
            self.engine.callbacks.lose_callbacks = lose_callbacks
        if late_callbacks is not None:
            self.engine.callbacks.late_callbacks = late_callbacks
        if fail_after_accept is not None:
            self.engine.fail_after_accept = fail_after_accept

    def counts(self) -> dict[str, Any]:
        e = self.engine
        return {
            "mutations_applied": e.mutations_applied,
            "mutations_failed": e.mutations_failed,
            "mutations_replayed": e.mutations_replayed,
            "callbacks_sent": e.callbacks.sent,
            "callbacks_sent_by_host": e.callbacks.sent_by_host(),
            "callbacks_lost": e.callbacks.lost,
            "callbacks_failed": e.callbacks.failed,
            "candidates": len(e.stores[False].candidates),
            "sandbox_candidates": len(e.stores[True].candidates),
            "uploads": len(e.uploads),
            "idle": e.idle(),
            "faults": {
                "lose_callbacks": e.callbacks.lose_callbacks,
                "late_callbacks": e.callbacks.late_callbacks,
                "fail_after_accept": e.fail_after_accept,
                "failed_key_reruns": e.failed_key_reruns,
                "replay_callbacks": e.replay_callbacks,
            },
        }

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block (from a thread other than the server's) until mutations and callbacks are done."""
        deadline = time.monotonic() + timeout
        while not self.engine.idle():
            if time.monotonic() > deadline:
                raise TimeoutError("onderwijsregio mutations still pending")
            time.sleep(0.01)

    async def settled(self, timeout: float = 10.0) -> None:
        """`wait_idle` for async tests (polls without blocking the caller's loop)."""
        deadline = time.monotonic() + timeout
        while not self.engine.idle():
            if time.monotonic() > deadline:
                raise TimeoutError("onderwijsregio mutations still pending")
            await asyncio.sleep(0.01)

    # Counters and toggles as attributes.
    mutations_applied = property(lambda self: self.engine.mutations_applied)
    mutations_failed = property(lambda self: self.engine.mutations_failed)
    mutations_replayed = property(lambda self: self.engine.mutations_replayed)
    replayed = mutations_replayed
    callbacks_sent = property(lambda self: self.engine.callbacks.sent)
    callbacks_lost = property(lambda self: self.engine.callbacks.lost)
    callbacks_failed = property(lambda self: self.engine.callbacks.failed)

    @property
    def lose_callbacks(self) -> int:
        return self.engine.callbacks.lose_callbacks

    @lose_callbacks.setter
    def lose_callbacks(self, value: int) -> None:
        self.engine.callbacks.lose_callbacks = value

    @property
    def late_callbacks(self) -> float:
        return self.engine.callbacks.late_callbacks

    @late_callbacks.setter
    def late_callbacks(self, value: float) -> None:
        self.engine.callbacks.late_callbacks = value

    @property
    def fail_after_accept(self) -> int:
        return self.engine.fail_after_accept

    @fail_after_accept.setter
    def fail_after_accept(self, value: int) -> None:
        self.engine.fail_after_accept = value

    # --- /_sandbox/onderwijsregio -----------------------------------------------------------------
    async def _get_state(self, request: web.Request) -> web.Response:
        return web.json_response({**self.counts(), "uploaded": self.uploads})

    async def _get_creates(self, request: web.Request) -> web.Response:
        """Every create's span and the overlaps among them (`onderwijsregio_creates`)."""
        return web.json_response(count(self.engine.creates.attempts).model_dump(mode="json"))

    async def _post_faults(self, request: web.Request) -> web.Response:
        try:
            faults = OnderwijsregioFaults.model_validate(await request.json())
        except (ValueError, ValidationError) as error:
            return web.json_response({"error": str(error)}, status=400)
        self.set_faults(**faults.model_dump())
        return web.json_response(self.counts()["faults"])

    async def _get_file(self, request: web.Request) -> web.Response:
        for store in self.engine.stores.values():
            found = store.files.get(request.match_info["id"])
            if found is not None:
                data = self.engine.received.read(found.sha256)
                if data is None:
                    return web.json_response({"error": NOT_KEPT}, status=404)
                return web.Response(body=data, content_type=found.type)
        return web.json_response({"error": "no such file"}, status=404)
