"""`/_sandbox/...`: the sandbox's own control surface for tests, demos and benchmarks.

Not part of any real API: read request counts and headers, inject faults (and release the requests
a `hold` parked), add applications, remove a hirer relationship or an attachment, delete a
candidate or an application (SEEK's redaction, no event), replay events, push signed webhooks
(once, or as a steady trickle of new applications: `trickle.py`),
and (`ats_ledger`) read what the ATS fakes hold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from seek_sync.sandbox import ats_ledger, trickle, webhook_admin
from seek_sync.sandbox.faults import Fault
from seek_sync.sandbox.state import STATE, SandboxState
from seek_sync.sandbox.webhooks import DeliveryReport, WebhookSender
from seek_sync.sandbox.world import StreamEvent


class DeliverRequest(BaseModel):
    url: str | None = None
    event_ids: list[str] | None = None
    type_codes: list[str] | None = None
    batch_size: int = Field(default=10, ge=1, le=10)
    duplicate: bool = False
    reorder: bool = False


def summary(state: SandboxState) -> dict[str, Any]:
    """Counts of what the sandbox serves, per hirer and per attachment kind."""
    world = state.world
    applications = list(world.applications.values())
    per_hirer = Counter(a.hirer_id for a in applications)
    files = Counter(a.hirer_id for a in applications for _ in a.attachments)
    # What a client can still fetch: attachments not removed, and their bytes.
    present = Counter(a.hirer_id for a in applications for att in a.attachments if not att.removed)
    present_bytes: Counter[str] = Counter()
    for a in applications:
        present_bytes[a.hirer_id] += sum(att.size for att in a.attachments if not att.removed)
    kinds = Counter(att.kind for a in applications for att in a.attachments)
    hirers_of: dict[str, set[str]] = {}  # a person's (case-folded) email -> hirers applied to
    for a in applications:
        email = world.candidates[a.candidate_id].person.email.casefold()  # "" once redacted
        if email:
            hirers_of.setdefault(email, set()).add(a.hirer_id)
    return {
        "scheme_id": world.scheme_id,
        "hirers": [
            {
                "id": h.id,
                "name": h.name,
                "relationship": h.relationship,
                "applications": per_hirer.get(h.id, 0),
                "attachments": files.get(h.id, 0),
                "present_attachments": present.get(h.id, 0),
                "present_bytes": present_bytes.get(h.id, 0),
            }
            for h in world.hirers.values()
        ],
        "applications": len(applications),
        "people": len(hirers_of),  # distinct applicants, by email
        "people_at_several_hirers": sum(len(h) > 1 for h in hirers_of.values()),
        "attachments": sum(kinds.values()),
        "attachment_bytes": sum(att.size for a in applications for att in a.attachments),
        "attachments_by_kind": dict(kinds),
        "events": len(world.events),
        "edge_cases": {k: list(v) for k, v in world.edge_cases.items()},
        "deleted_candidates": [c.id for c in world.candidates.values() if c.deleted],
        "deleted_applications": [a.profile_id for a in applications if a.deleted],
        "received_bytes": state.received.bytes_received,  # files the ATS fakes took in
    }


def _state(request: web.Request) -> SandboxState:
    return request.app[STATE]


async def _json_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return {}
    return await request.json()


def _bad(error: Exception) -> web.Response:
    return web.json_response({"error": str(error)}, status=400)


async def get_summary(request: web.Request) -> web.Response:
    return web.json_response(summary(_state(request)))


async def get_requests(request: web.Request) -> web.Response:
    log = _state(request).log
    endpoint = request.query.get("endpoint")
    recent = [r.model_dump() for r in log.requests(endpoint)][-500:]
    return web.json_response({"counts": log.counts(), "requests": recent})


async def clear_requests(request: web.Request) -> web.Response:
    _state(request).log.clear()
    return web.json_response({"ok": True})


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response([f.model_dump() for f in _state(request).faults.pending()])


async def add_faults(request: web.Request) -> web.Response:
    body = await _json_body(request)
    try:
        faults = [Fault.model_validate(f) for f in (body if isinstance(body, list) else [body])]
    except ValidationError as error:
        return _bad(error)
    for fault in faults:
        _state(request).faults.add(fault)
    return web.json_response({"added": len(faults)})


async def clear_faults(request: web.Request) -> web.Response:
    _state(request).faults.clear()
    return web.json_response({"ok": True})


async def get_held(request: web.Request) -> web.Response:
    return web.json_response(_state(request).held.now().model_dump())


async def release_held(request: web.Request) -> web.Response:
    """Drop the `hold` rules and let every parked request go on."""
    state = _state(request)
    state.faults.drop("hold")
    return web.json_response({"released": state.held.release()})


async def expire_tokens(request: web.Request) -> web.Response:
    _state(request).tokens.expire_all()
    return web.json_response({"ok": True})


async def add_applications(request: web.Request) -> web.Response:
    """New applications (to the `hirers` ids only, if given); pushed as signed webhooks too when a
    webhook URL (or replicas) is configured."""
    state = _state(request)
    body = await _json_body(request)
    hirers = body.get("hirers")
    if hirers is not None and not (
        isinstance(hirers, list) and all(isinstance(h, str) for h in hirers)
    ):
        return _bad(ValueError("hirers must be a list of hirer ids"))
    unknown = [h for h in hirers or [] if h not in state.world.hirers]
    if unknown:
        return web.json_response({"error": "unknown hirer", "hirers": unknown}, status=404)
    events = state.world.add_applications(int(body.get("count", 1)), hirers)
    answer: dict[str, Any] = {"events": [e.id for e in events]}
    sender = state.webhooks.sender(state.config.webhook_secret, state.config.seed)
    if sender is not None:
        answer["webhooks"] = asdict(await _deliver(state, sender, events))
    return web.json_response(answer)


async def _deliver(
    state: SandboxState, sender: WebhookSender, events: list[StreamEvent], **options: Any
) -> DeliveryReport:
    """Deliver, and add the outcome to the sandbox's running totals (`GET /_sandbox/webhooks`)."""
    report = await sender.deliver(events, **options)
    state.webhooks.advance(report)
    state.webhook_totals.add(report)
    return report


async def remove_relationship(request: web.Request) -> web.Response:
    world = _state(request).world
    hirer_id = request.match_info["hirer_id"]
    if hirer_id not in world.hirers:
        return web.json_response({"error": "unknown hirer"}, status=404)
    event = world.remove_relationship(hirer_id)
    return web.json_response({"event": event.id})


async def remove_attachment(request: web.Request) -> web.Response:
    body = await _json_body(request)
    _state(request).world.remove_attachment(body["application_id"], body["attachment_id"])
    return web.json_response({"ok": True})


async def delete_candidate(request: web.Request) -> web.Response:
    """SEEK deletes the person behind a candidate: their candidates at every hirer and all their
    profiles are redacted. Answers what was newly redacted; no event."""
    world = _state(request).world
    candidate_id = request.match_info["candidate_id"]
    if candidate_id not in world.candidates:
        return web.json_response({"error": "unknown candidate"}, status=404)
    return web.json_response(asdict(world.delete_candidate(candidate_id)))


async def delete_application(request: web.Request) -> web.Response:
    """SEEK deletes one application: that profile is redacted; no event."""
    world = _state(request).world
    profile_id = request.match_info["profile_id"]
    if profile_id not in world.applications:
        return web.json_response({"error": "unknown candidate profile"}, status=404)
    return web.json_response(asdict(world.delete_application(profile_id)))


async def replay_events(request: web.Request) -> web.Response:
    body = await _json_body(request)
    events = _state(request).world.replay_events(list(body.get("event_ids", [])))
    return web.json_response({"replayed": len(events)})


async def deliver_webhooks(request: web.Request) -> web.Response:
    state = _state(request)
    try:
        ask = DeliverRequest.model_validate(await _json_body(request))
    except ValidationError as error:
        return _bad(error)
    sender = state.webhooks.sender(state.config.webhook_secret, state.config.seed, ask.url)
    if sender is None:
        return web.json_response({"error": "no webhook url configured or given"}, status=400)
    events = list(state.world.events)
    if ask.event_ids is not None:
        wanted = set(ask.event_ids)
        events = [e for e in events if e.id in wanted]
    if ask.type_codes is not None:
        events = [e for e in events if e.type_code in ask.type_codes]
    report = await _deliver(
        state,
        sender,
        events,
        batch_size=ask.batch_size,
        duplicate=ask.duplicate,
        reorder=ask.reorder,
    )
    return web.json_response(asdict(report))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/_sandbox/summary", get_summary, name="admin.summary")
    r.add_get("/_sandbox/requests", get_requests, name="admin.requests")
    r.add_delete("/_sandbox/requests", clear_requests, name="admin.requests.clear")
    r.add_get("/_sandbox/faults", get_faults, name="admin.faults")
    r.add_post("/_sandbox/faults", add_faults, name="admin.faults.add")
    r.add_delete("/_sandbox/faults", clear_faults, name="admin.faults.clear")
    r.add_get("/_sandbox/faults/held", get_held, name="admin.faults.held")
    r.add_post("/_sandbox/faults/release", release_held, name="admin.faults.release")
    r.add_post("/_sandbox/tokens/expire", expire_tokens, name="admin.tokens.expire")
    r.add_post("/_sandbox/applications", add_applications, name="admin.applications")
    r.add_post(
        "/_sandbox/hirers/{hirer_id}/remove-relationship",
        remove_relationship,
        name="admin.relationship",
    )
    r.add_post("/_sandbox/attachments/remove", remove_attachment, name="admin.attachments")
    r.add_post(
        "/_sandbox/candidates/{candidate_id}/delete",
        delete_candidate,
        name="admin.candidates.delete",
    )
    r.add_post(
        "/_sandbox/applications/{profile_id}/delete",
        delete_application,
        name="admin.applications.delete",
    )
    r.add_post("/_sandbox/events/replay", replay_events, name="admin.replay")
    r.add_post("/_sandbox/webhooks/deliver", deliver_webhooks, name="admin.webhooks")
    webhook_admin.add_routes(app)
    trickle.add_routes(app)
    ats_ledger.add_routes(app)
