"""Trickle mode: new applications at a steady rate, each pushed at once as a signed webhook.

`POST /_sandbox/trickle {"rate": R, "duration": S, "hirers": [...], "url": ...}` starts it: every
1/R seconds for S seconds the sandbox creates one application in its world (to a hirer drawn, by
the seed, from `hirers`, default every hirer with our relationship) and delivers its event on its
own as a signed webhook (`WebhookSender`: the same signature, body and retries as every other
delivery) to `url` (default: the configured subscription URL). It records when it created each
application and when the receiver answered 2xx (`accepted_at`, epoch seconds): the moment SEEK
would count the webhook delivered, from which a benchmark times the rest. Deliveries run
concurrently, so a slow receiver never slows the schedule.

`GET /_sandbox/trickle` answers the run so far; with `?digests=1`, each application's attachments
with the SHA-256 of the bytes the sandbox serves for them (rendered on request, after the run:
the benchmark matches them to the files the ATS fakes received).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from seek_sync.sandbox import files
from seek_sync.sandbox.state import STATE, SandboxState
from seek_sync.sandbox.webhooks import DeliveryReport, WebhookSender, webhook_event
from seek_sync.sandbox.world import World


class TrickleRequest(BaseModel):
    rate: float = Field(gt=0, le=1000, description="applications per second")
    duration: float = Field(gt=0, le=86_400, description="seconds")
    hirers: list[str] | None = Field(default=None, description="default: every related hirer")
    url: str | None = Field(default=None, description="default: the subscription URL")


@dataclass
class Trickled:
    """One application the trickle made, and what became of its webhook."""

    profile_id: str
    application_id: str
    hirer_id: str
    event_id: str
    created_at: float  # epoch seconds: the sandbox created it
    accepted_at: float | None = None  # epoch seconds: the receiver answered 2xx
    status: int | None = None  # the receiver's final answer (504: no answer)


@dataclass
class Trickle:
    """One trickle run: its plan, its applications so far, and its task."""

    ask: TrickleRequest
    hirers: list[str]
    planned: int
    started_at: float = field(default_factory=time.time)
    applications: list[Trickled] = field(default_factory=list)
    report: DeliveryReport = field(default_factory=DeliveryReport)
    finished: bool = False
    task: asyncio.Task[None] | None = None
    sha256: dict[str, str] = field(default_factory=dict)  # attachment id -> digest of its bytes

    async def run(self, state: SandboxState, sender: WebhookSender) -> None:
        rng = random.Random(f"trickle:{state.config.seed}")
        loop, deliveries = asyncio.get_running_loop(), list[asyncio.Task[None]]()
        start = loop.time()
        timeout = aiohttp.ClientTimeout(total=sender.timeout_seconds)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                for index in range(self.planned):
                    await asyncio.sleep(max(0.0, start + index / self.ask.rate - loop.time()))
                    events = state.world.add_applications(1, [rng.choice(self.hirers)])
                    for event in events:
                        profile_id = event.profile_id or ""
                        made = Trickled(
                            profile_id,
                            profile_id.rsplit(":", 1)[-1],
                            event.hirer_id,
                            event.id,
                            time.time(),
                        )
                        self.applications.append(made)
                        item = webhook_event(event)
                        deliveries.append(
                            asyncio.create_task(self._deliver(session, sender, made, item))
                        )
                await asyncio.gather(*deliveries)
        finally:
            self.finished = True
            state.webhook_totals.add(self.report)

    async def _deliver(
        self,
        session: aiohttp.ClientSession,
        sender: WebhookSender,
        made: Trickled,
        item: dict[str, str],
    ) -> None:
        made.status = await sender.post(session, [item], self.report)
        if 200 <= made.status < 300:
            made.accepted_at = time.time()

    def digests(self, world: World, profile_id: str) -> list[dict[str, Any]]:
        """Each attachment of the application with the SHA-256 of the bytes the sandbox serves
        for it (rendered once: they never change)."""
        application = world.applications.get(profile_id)
        out = []
        for record in application.attachments if application else []:
            if record.id not in self.sha256:
                data = files.render_file(
                    record.kind, record.size, record.seed, record.title, record.lines
                )
                self.sha256[record.id] = hashlib.sha256(data).hexdigest()
            digest = self.sha256[record.id]
            out.append({"id": record.id, "sha256": digest, "removed": record.removed})
        return out

    def answer(self, world: World, digests: bool) -> dict[str, Any]:
        accepted = sum(a.accepted_at is not None for a in self.applications)
        failed = sum(a.status is not None and a.accepted_at is None for a in self.applications)
        out: dict[str, Any] = {
            "rate": self.ask.rate,
            "duration": self.ask.duration,
            "hirers": len(self.hirers),
            "planned": self.planned,
            "started_at": self.started_at,
            "finished": self.finished,
            "created": len(self.applications),
            "accepted": accepted,
            "failed": failed,
        }
        rows = [asdict(a) for a in self.applications]
        if digests:
            for row in rows:
                row["attachments"] = self.digests(world, row["profile_id"])
        out["applications"] = rows
        return out


async def start_trickle(request: web.Request) -> web.Response:
    state: SandboxState = request.app[STATE]
    try:
        ask = TrickleRequest.model_validate_json(await request.read() or b"{}")
    except ValidationError as error:
        return web.json_response({"error": str(error)}, status=400)
    running = state.trickle
    if running is not None and not running.finished:
        return web.json_response({"error": "a trickle is already running"}, status=409)
    world = state.world
    hirers = ask.hirers or sorted(h.id for h in world.hirers.values() if h.relationship)
    unknown = [h for h in hirers if h not in world.hirers]
    if unknown:
        return web.json_response({"error": "unknown hirer", "hirers": unknown}, status=404)
    sender = state.webhooks.sender(state.config.webhook_secret, state.config.seed, ask.url)
    if sender is None or not hirers:
        return web.json_response({"error": "no webhook url, or no hirer"}, status=400)
    trickle = Trickle(ask, hirers, planned=max(1, round(ask.rate * ask.duration)))
    trickle.task = asyncio.get_running_loop().create_task(trickle.run(state, sender))
    state.trickle = trickle
    return web.json_response({"planned": trickle.planned, "hirers": len(hirers)}, status=202)


async def get_trickle(request: web.Request) -> web.Response:
    trickle = request.app[STATE].trickle
    if trickle is None:
        return web.json_response({"error": "no trickle started"}, status=404)
    digests = request.query.get("digests", "") in ("1", "true")
    return web.json_response(trickle.answer(request.app[STATE].world, digests))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/_sandbox/trickle", start_trickle, name="admin.trickle.start")
    app.router.add_get("/_sandbox/trickle", get_trickle, name="admin.trickle")
