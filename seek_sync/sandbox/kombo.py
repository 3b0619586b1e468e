"""Fake Kombo unified ATS API under `/v1`, as the official `kombo` SDK calls and parses it.

Written from ats-apis.md and the SDK's wire format (it imports nothing from the SDK or our client).
Bearer key plus `X-Integration-Id`; `{status, data, warnings}` on success and
`{status:"error", error:{code,title,message,log_url}}` on failure; at most
`max_concurrent_writes` writes in flight per integration; the per-type attachment restrictions of
the actions endpoint are enforced on upload; injected Kombo error codes, lost responses after a
stored write (`timeout_after_write`) and slow writes. Settings, fault rules and the store are in
`kombo_data`; the wire (errors, request parsing, paging, JSON views) is in `kombo_views`; the
`/_sandbox/kombo` control surface is in `kombo_admin`.
"""

from __future__ import annotations

import asyncio
import hmac
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from seek_sync.sandbox.kombo_admin import KomboAdmin
from seek_sync.sandbox.kombo_data import (
    ATTACHMENT_TYPES,
    DuplicateApplication,
    KomboConfig,
    KomboFault,
    KomboFaults,
    KomboStore,
    StoredAttachment,
    TypeRestriction,
    Upload,
)
from seek_sync.sandbox.kombo_views import (
    KomboError,
    Page,
    application_view,
    attachment_view,
    candidate_view,
    drop,
    invalid,
    job_view,
    json_object,
    ok,
    paginate,
    read_answers,
    read_candidate,
    read_upload,
)

if TYPE_CHECKING:
    from seek_sync.sandbox.state import SandboxState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACTIONS = ("ats_add_application_attachment", "ats_add_candidate_attachment")


class KomboFake:
    """The fake and its Python control surface (the same as `/_sandbox/kombo/...`)."""

    def __init__(
        self, config: KomboConfig | None = None, state: SandboxState | None = None
    ) -> None:
        self.config = config or KomboConfig()
        received = state.received if state else None
        self.store = KomboStore(seed=state.config.seed if state else 7, received=received)
        self.faults = KomboFaults()
        self.writes_in_flight: Counter[str] = Counter()
        self.peak_writes_in_flight = 0
        world_jobs = (
            [(j.seek_hirer_job_reference, j.title) for j in state.world.jobs.values()]
            if state
            else []
        )
        self.store.seed_data(self.config, world_jobs)
        # The fake's own applications (not a client's): the ledger marks them `seeded`.
        self.seeded_application_ids = frozenset(self.store.applications)

    # --- Python control surface ------------------------------------------------------------------
    def info(self, base_url: str) -> dict[str, Any]:
        return {
            "kombo_url": f"{base_url}/v1",
            "kombo_api_key": self.config.api_key,
            "kombo_integration_id": self.config.integration_id,
        }

    def add_fault(self, code: str | None = None, **options: Any) -> None:
        """E.g. `add_fault("REMOTE.SERVICE_UNAVAILABLE", times=2, route="kombo.add_attachment")`."""
        self.faults.add(KomboFault(code=code, **options))

    def timeout_after_write(self, times: int = 1, route: str = "kombo.add_attachment") -> None:
        self.faults.add(KomboFault(timeout_after_write=times, route=route))

    def slow_write(self, seconds: float) -> None:
        self.faults.add(KomboFault(slow_write=seconds))

    def clear_faults(self) -> None:
        self.faults.clear()

    def attachments(self, application_id: str | None = None) -> list[StoredAttachment]:
        with self.store.lock:
            if application_id is not None:
                return list(self.store.attachments.get(application_id, []))
            return [a for stored in self.store.attachments.values() for a in stored]

    def uploads_received(self, application_id: str) -> int:
        """`POST …/attachments` requests that reached this application (valid or not)."""
        return self.store.uploads_received[application_id]

    @property
    def applications_created(self) -> int:
        return self.store.applications_created

    def snapshot(self) -> dict[str, Any]:
        store = self.store
        with store.lock:
            return {
                "integration_id": self.config.integration_id,
                "jobs": [
                    {"id": j.id, "remote_id": j.remote_id, "name": j.name, "status": j.status}
                    for j in store.jobs.values()
                ],
                "candidates": len(store.candidates),
                "applications": [
                    {"id": a.id, "candidate_id": a.candidate_id, "job_id": a.job_id}
                    for a in store.applications.values()
                ],
                "applications_created": store.applications_created,
                "uploads_received": dict(store.uploads_received),
                "attachments": [a.summary() for a in self.attachments()],
                "writes_in_flight": sum(self.writes_in_flight.values()),
                "peak_writes_in_flight": self.peak_writes_in_flight,
                "faults": self.faults.describe(),
                "restrictions": self.restrictions(),
            }

    def restrictions(self) -> dict[str, dict[str, Any]]:
        unsupported = TypeRestriction(is_supported=False)
        return {
            t: self.config.restrictions.get(t, unsupported).model_dump() for t in ATTACHMENT_TYPES
        }

    # --- routing ---------------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        api: list[tuple[str, str, str, Handler, bool]] = [
            ("GET", "/jobs", "kombo.jobs", self.get_jobs, False),
            ("GET", "/candidates", "kombo.candidates", self.get_candidates, False),
            ("GET", "/applications", "kombo.applications", self.get_applications, False),
            ("POST", "/jobs/{job_id}/applications", "kombo.create_application",
             self.create_application, True),
            ("POST", "/applications/{application_id}/attachments", "kombo.add_attachment",
             self.add_attachment, True),
            ("GET", "/applications/{application_id}/attachments", "kombo.attachments",
             self.get_attachments, False),
            ("GET", "/actions/{action}", "kombo.actions", self.get_action, False),
        ]  # fmt: skip
        for method, path, name, handler, write in api:
            app.router.add_route(
                method, f"/v1/ats{path}", self._api(name, handler, write), name=name
            )
        KomboAdmin(self).add_routes(app)

    def _api(self, route: str, handler: Handler, write: bool = False) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                self._authenticate(request)
                fault = self.faults.take(route)
                if fault is not None and fault.code is not None:
                    raise self._injected(fault)
                return await (self._write(request, handler) if write else handler(request))
            except KomboError as error:
                origin = f"{request.scheme}://{request.host}"
                return error.response(f"{origin}/_sandbox/requests?endpoint={route}")

        return run

    def _authenticate(self, request: web.Request) -> None:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.config.api_key}".encode()):
            raise KomboError(
                "PLATFORM.AUTHENTICATION_INVALID", "The API key is missing or invalid."
            )
        integration = request.headers.get("X-Integration-Id")
        if integration != self.config.integration_id:
            raise KomboError(
                "PLATFORM.INTEGRATION_NOT_FOUND", f"No integration with id {integration!r}."
            )

    def _injected(self, fault: KomboFault) -> KomboError:
        code = cast(str, fault.code)
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
        if code == "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED":
            headers |= self._concurrency_headers(0)
        message = fault.message or f"Injected {code} (sandbox)."
        return KomboError(code, message, fault.status or 0, headers)

    def _concurrency_headers(self, remaining: int) -> dict[str, str]:
        limit = self.config.max_concurrent_writes
        return {"Concurrency-Limit": str(limit), "Concurrency-Remaining": str(max(0, remaining))}

    async def _write(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        integration, limit = self.config.integration_id, self.config.max_concurrent_writes
        if self.writes_in_flight[integration] >= limit:
            raise KomboError(
                "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
                f"More than {limit} concurrent actions for this integration; back off and retry.",
                headers=self._concurrency_headers(0),
            )
        self.writes_in_flight[integration] += 1
        self.peak_writes_in_flight = max(
            self.peak_writes_in_flight, sum(self.writes_in_flight.values())
        )
        try:
            if self.faults.slow_write:
                await asyncio.sleep(self.faults.slow_write)
            response = await handler(request)
            response.headers.update(
                self._concurrency_headers(limit - self.writes_in_flight[integration])
            )
            return response
        finally:
            self.writes_in_flight[integration] -= 1

    # --- reads -----------------------------------------------------------------------------------
    async def get_jobs(self, request: web.Request) -> web.Response:
        with self.store.lock:
            jobs = list(self.store.jobs.values())
        page = Page(request, jobs, self.store.jobs)
        page.by("remote_ids", lambda j: j.remote_id)
        page.by("statuses", lambda j: j.status)
        page.since(lambda j: j.opened_at)
        return ok(paginate(page, job_view))

    async def get_candidates(self, request: web.Request) -> web.Response:
        store = self.store
        with store.lock:
            page = Page(request, list(store.candidates.values()), store.candidates)
            apps = list(store.applications.values())
        page.by("remote_ids", lambda c: c.remote_id)
        page.by("email", lambda c: c.email.casefold(), fold=True, single=True)
        page.by("first_name", lambda c: c.first_name.casefold(), fold=True, single=True)
        page.by("last_name", lambda c: c.last_name.casefold(), fold=True, single=True)
        page.by_any("job_ids", lambda c: [a.job_id for a in apps if a.candidate_id == c.id])
        page.since(lambda c: c.changed_at)
        return ok(paginate(page, lambda c: candidate_view(store, c)))

    async def get_applications(self, request: web.Request) -> web.Response:
        store = self.store
        with store.lock:
            page = Page(request, list(store.applications.values()), store.applications)
        page.by("remote_ids", lambda a: a.remote_id)
        page.by("job_ids", lambda a: a.job_id)
        page.by("job_remote_ids", lambda a: store.jobs[a.job_id].remote_id)
        page.by("current_stage_ids", lambda a: a.stage_id)
        page.by("outcomes", lambda a: "PENDING")
        page.since(lambda a: a.changed_at)
        return ok(paginate(page, lambda a: application_view(store, a)))

    async def get_attachments(self, request: web.Request) -> web.Response:
        application_id = self._application_id(request)
        origin = f"{request.scheme}://{request.host}"
        views = [attachment_view(a, origin) for a in self.attachments(application_id)]
        return ok({"results": views})

    async def get_action(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in ACTIONS:
            raise KomboError(None, f"Unknown action {action!r}.")
        return ok({"attachment_restrictions": {"types": self.restrictions()}})

    # --- writes ----------------------------------------------------------------------------------
    def _application_id(self, request: web.Request) -> str:
        application_id = request.match_info["application_id"]
        if application_id not in self.store.applications:
            raise KomboError(None, f"No application with id {application_id!r}.")
        return application_id

    async def add_attachment(self, request: web.Request) -> web.StreamResponse:
        application_id = self._application_id(request)
        with self.store.lock:
            self.store.uploads_received[application_id] += 1
        body = await json_object(request)
        upload = await read_upload(self.config, body.get("attachment"), "attachment")
        self.store.add_attachment(application_id, upload, datetime.now(UTC))
        if self.faults.take_timeout("kombo.add_attachment"):
            return await drop(request)
        return ok({}, self._warnings(upload))

    async def create_application(self, request: web.Request) -> web.StreamResponse:
        job = self.store.jobs.get(request.match_info["job_id"])
        if job is None:
            raise KomboError(None, f"No job with id {request.match_info['job_id']!r}.")
        body = await json_object(request)
        person = read_candidate(body)
        if job.status != "OPEN":
            raise KomboError("ATS.JOB_CLOSED", f"The job {job.id} is {job.status.lower()}.")
        stage_id = body.get("stage_id")
        if stage_id is not None and stage_id not in job.stage_ids:
            raise invalid(f"stage_id {stage_id!r} is not a stage of job {job.id}.")
        answers = read_answers(job.question_ids, body.get("screening_question_answers"))
        items = body.get("attachments") or []
        if not isinstance(items, list):
            raise invalid("attachments must be an array.")
        uploads = [
            await read_upload(self.config, item, f"attachments[{i}]")
            for i, item in enumerate(items)
        ]
        now = datetime.now(UTC)
        try:
            application = self.store.create_application(job, person, answers, now, stage_id)
        except DuplicateApplication:
            raise KomboError(
                "ATS.APPLICATION_ALREADY_EXISTS",
                f"The candidate already has an application for job {job.id}.",
                self.config.duplicate_application_status,
            ) from None
        for upload in uploads:
            self.store.add_attachment(application.id, upload, now)
        if self.faults.take_timeout("kombo.create_application"):
            return await drop(request)
        return ok(application_view(self.store, application))

    @staticmethod
    def _warnings(upload: Upload) -> list[str]:
        if upload.content_type == "application/octet-stream":
            return ["content_type application/octet-stream is generic; the ATS may not show it."]
        return []


def kombo_fake(state: SandboxState) -> KomboFake:
    """The sandbox's Kombo fake, typed."""
    return cast(KomboFake, state.fakes["kombo"])
