"""The Kombo target against the sandbox's fake over real HTTP (no mocks), counted at the fake."""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from seek_sync.ats.base import AtsCandidate, AtsFile, CandidateRecord, PushResult, UploadRecord
from seek_sync.ats.factory import AtsTargets
from seek_sync.ats.kombo import KomboTarget
from seek_sync.ats.kombo_api import KomboApi
from seek_sync.ats.targets import HirerTarget, TargetConfigError, TargetKind, TargetMap
from seek_sync.http import RetryPolicy
from seek_sync.http.clients import async_client
from seek_sync.sandbox import files as sandbox_files
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.kombo import KomboFake, kombo_fake
from seek_sync.sandbox.kombo_data import TypeRestriction
from seek_sync.sandbox.server import SandboxServer
from seek_sync.settings import Settings, load_settings
from seek_sync.store.blobs import BlobStore

HIRER = "seekAnzPublicTest:organization:seek:KOMBO111"
JOB_A, JOB_B = "REQ-2026-0417", "REQ-2026-0418"
UPLOADS = "kombo.add_attachment"


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(applications=1, edge_cases=False)) as running:
        yield running


@pytest.fixture(scope="module")
def file_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    """Serves blobs by key, standing in for the receiver's signed blob URLs."""
    served: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    httpd.shutdown()


@dataclass
class Blobs:
    store: BlobStore
    base_url: str
    served: dict[str, bytes]

    def read_bytes(self, blob_key: str) -> bytes:
        return self.store.read_bytes(blob_key)

    def signed_url(self, blob_key: str, content_type: str, *, now: float | None = None) -> str:
        self.served[blob_key] = self.store.read_bytes(blob_key)
        return f"{self.base_url}/{blob_key}"


@dataclass
class World:
    server: SandboxServer
    fake: KomboFake
    settings: Settings
    blobs: Blobs
    http: httpx.AsyncClient
    target: KomboTarget

    def make_target(
        self, api_key: str | None = None, write_concurrency: int = 8, attempts: int | None = None
    ) -> KomboTarget:
        info = self.server.info()
        jobs = {ref: job_id(self.fake, ref) for ref in (JOB_A, JOB_B)}
        hirer = HirerTarget(
            target=TargetKind.KOMBO,
            api_key_env="SEEK_SYNC_TEST_KOMBO_KEY_UNUSED",
            integration_id=info["kombo_integration_id"],
            jobs=jobs,
        )
        api = KomboApi(
            self.http,
            base_url=info["kombo_url"],
            api_key=SecretStr(api_key or info["kombo_api_key"]),
            integration_id=info["kombo_integration_id"],
            policy=replace(
                RetryPolicy.from_settings(self.settings),
                max_attempts=attempts or self.settings.retry_max_attempts,
            ),
            write_concurrency=write_concurrency,
        )
        return KomboTarget(
            api, self.blobs, hirer=hirer, data_limit_bytes=self.settings.kombo_data_limit_bytes
        )

    def count(self, endpoint: str = UPLOADS) -> int:
        return self.server.count(endpoint)


def job_id(fake: KomboFake, remote_id: str) -> str:
    return next(j.id for j in fake.store.jobs.values() if j.remote_id == remote_id)


@pytest.fixture
async def world(
    server: SandboxServer, file_server: tuple[str, dict[str, bytes]], tmp_path: Path
) -> AsyncIterator[World]:
    fake = kombo_fake(server.state)
    restrictions = {k: v.model_copy(deep=True) for k, v in fake.config.restrictions.items()}
    cap = fake.config.max_concurrent_writes
    fake.clear_faults()
    server.clear_faults()
    server.state.log.clear()
    settings = load_settings(
        seek_client_id="x",
        seek_client_secret="y",
        seek_webhook_secret="w" * 32,
        retry_initial_backoff_seconds=0.01,
        retry_max_backoff_seconds=0.05,
        retry_max_attempts=8,
        kombo_data_limit_bytes=50_000,
        home=tmp_path,
    )
    base_url, served = file_server
    blobs = Blobs(BlobStore((tmp_path / "blobs").as_uri()), base_url, served)
    async with async_client(httpx.Timeout(30)) as http:
        w = World(server, fake, settings, blobs, http, None)  # type: ignore[arg-type]
        w.target = w.make_target()
        yield w
    fake.clear_faults()
    server.clear_faults()
    fake.config.restrictions = restrictions  # type: ignore[assignment]
    fake.config.max_concurrent_writes = cap


def candidate(job: str | None = JOB_A, email: str | None = "", n: str = "1") -> AtsCandidate:
    return AtsCandidate(
        hirer_id=HIRER,
        seek_candidate_id=f"seek-cand-{n}",
        profile_id=f"profile-{n}-{job}",
        given_name="Zoë",
        family_name="O'Brien",
        email=f"zoe.{uuid.uuid4().hex[:10]}@example.com" if email == "" else email,
        phone="+61 400 000 000",
        job_reference=job,
    )


def stored_file(
    world: World, n: int, role: str | None, size: int = 3000, kind: str = "pdf", **extra: Any
) -> AtsFile:
    data = sandbox_files.render_file(kind, size, n, f"Document {n}", ["line"])
    sink = world.blobs.store.sink(HIRER)
    sink.begin()
    sink.write(data)
    sha = hashlib.sha256(data).hexdigest()
    fields: dict[str, Any] = {
        "attachment_id": f"att-{n}",
        "hirer_id": HIRER,
        "profile_id": "profile-1",
        "role": role,
        "filename": f"document-{n}{sandbox_files.EXTENSION[kind]}",
        "content_type": sandbox_files.MIME[kind],
        "size": size,
        "sha256": sha,
        "blob_key": sink.commit(sha),
    }
    return AtsFile.model_validate(fields | extra)


def by_id(result: PushResult) -> dict[str, UploadRecord]:
    return {r.attachment_id: r for r in result.uploads}


def application_of(world: World, record: CandidateRecord, remote: str = JOB_A) -> str:
    wanted = job_id(world.fake, remote)
    (found,) = [
        a.id
        for a in world.fake.store.applications.values()
        if a.candidate_id == record.ats_id and a.job_id == wanted
    ]
    return found


async def test_new_candidate_created_once_files_typed_and_pushed_once(world: World) -> None:
    files = [
        stored_file(world, 0, "Resume"),
        stored_file(world, 1, "CoverLetter", kind="docx"),
        stored_file(world, 2, "SelectionCriteria", kind="txt"),
        stored_file(world, 3, None, size=60_000),  # over the data limit: sent as a data_url
    ]
    person = candidate()
    before = world.fake.applications_created
    first = await world.target.push(person, files, None, {})
    assert first.candidate.state == "exists" and first.candidate.ats_id
    assert world.fake.applications_created == before + 1
    states = by_id(first)
    assert {r.state for r in states.values()} == {"confirmed"}
    assert all(r.attempts == 1 and r.ats_attachment_id for r in states.values())
    application = application_of(world, first.candidate)
    stored = {a.name: a for a in world.fake.attachments(application)}
    assert {n: a.type for n, a in stored.items()} == {
        "document-0.pdf": "CV",
        "document-1.docx": "COVER_LETTER",
        "document-2.txt": "OTHER",
        "document-3.pdf": "OTHER",
    }
    assert {a.sha256 for a in stored.values()} == {f.sha256 for f in files}
    assert stored["document-3.pdf"].via == "data_url"
    assert stored["document-0.pdf"].via == "data"
    assert world.fake.uploads_received(application) == 4
    again = await world.target.push(person, files, first.candidate, states)
    assert world.fake.uploads_received(application) == 4 and world.count() == 4
    assert world.fake.applications_created == before + 1
    assert {r.state for r in again.uploads} == {"confirmed"}


async def test_repeat_applicant_reuses_candidate_and_application(world: World) -> None:
    email = f"repeat.{uuid.uuid4().hex[:8]}@example.com"
    first_profile = candidate(email=email, n="r1")
    second_profile = first_profile.model_copy(update={"profile_id": "profile-r1-again"})
    before = world.fake.applications_created
    one = await world.target.push(first_profile, [stored_file(world, 10, "Resume")], None, {})
    two = await world.target.push(second_profile, [stored_file(world, 11, None)], None, {})
    assert world.fake.applications_created == before + 1  # the same job: one application
    assert one.candidate.ats_id == two.candidate.ats_id
    # A fresh target that knows nothing (a new run) finds it again; no ALREADY_EXISTS needed.
    third = await world.make_target().push(second_profile, [stored_file(world, 12, None)], None, {})
    assert third.candidate.ats_id == one.candidate.ats_id
    assert world.count("kombo.create_application") == 1
    other_job = first_profile.model_copy(update={"job_reference": JOB_B, "profile_id": "p-b"})
    four = await world.target.push(other_job, [stored_file(world, 13, "Resume")], None, {})
    assert world.fake.applications_created == before + 2
    assert four.candidate.ats_id == one.candidate.ats_id
    wanted = email.casefold()
    assert sum(c.email.casefold() == wanted for c in world.fake.store.candidates.values()) == 1
    assert len(world.fake.attachments(application_of(world, one.candidate))) == 3
    assert len(world.fake.attachments(application_of(world, one.candidate, JOB_B))) == 1


async def test_already_exists_from_a_lost_create_is_read_again(world: World) -> None:
    world.fake.timeout_after_write(1, route="kombo.create_application")
    before = world.fake.applications_created
    result = await world.target.push(candidate(), [stored_file(world, 20, "Resume")], None, {})
    assert result.candidate.state == "exists"
    assert world.fake.applications_created == before + 1
    assert world.count("kombo.create_application") == 2  # lost answer, then ALREADY_EXISTS
    assert by_id(result)["att-20"].state == "confirmed"


async def test_read_back_prevents_a_duplicate_after_a_dropped_upload(world: World) -> None:
    world.fake.timeout_after_write(1)
    result = await world.target.push(candidate(), [stored_file(world, 30, "Resume")], None, {})
    record = by_id(result)["att-30"]
    assert record.state == "confirmed" and record.ats_attachment_id
    application = application_of(world, result.candidate)
    assert len(world.fake.attachments(application)) == 1
    assert world.fake.uploads_received(application) == 1 and world.count() == 1


async def test_stored_unknown_outcome_is_read_back_before_sending(world: World) -> None:
    person, files = candidate(), [stored_file(world, 40, "Resume"), stored_file(world, 41, None)]
    world.fake.timeout_after_write(1)
    world.fake.timeout_after_write(1)  # both lost; the second one's read-back sees it as well
    first = await world.target.push(person, files[:1], None, {})
    application = application_of(world, first.candidate)
    unknown = by_id(first)["att-40"].model_copy(
        update={"state": "pending", "outcome_unknown": True, "ats_attachment_id": None}
    )
    again = await world.target.push(person, files, first.candidate, {"att-40": unknown})
    states = by_id(again)
    assert states["att-40"].state == "confirmed" and states["att-40"].attempts == 1
    assert states["att-41"].state == "confirmed"
    names = sorted(a.name for a in world.fake.attachments(application))
    assert names == ["document-40.pdf", "document-41.pdf"]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("PLATFORM.RATE_LIMIT_EXCEEDED", None),
        ("PLATFORM.CONCURRENCY_LIMIT_EXCEEDED", None),
        ("REMOTE.RATE_LIMIT_EXCEEDED", None),
        ("REMOTE.SERVICE_UNAVAILABLE", None),
        (None, 503),  # a bare load-balancer 503, no Kombo body
    ],
)
async def test_safe_codes_are_retried(world: World, code: str | None, status: int | None) -> None:
    if code:
        world.fake.add_fault(code, times=2, route=UPLOADS, retry_after=0)
    else:
        world.server.add_fault(UPLOADS, "error", status=503, times=2)
    result = await world.target.push(candidate(), [stored_file(world, 50, "Resume")], None, {})
    record = by_id(result)["att-50"]
    assert record.state == "confirmed" and record.attempts == 1, record
    assert world.count() == 3
    assert len(world.fake.attachments(application_of(world, result.candidate))) == 1


@pytest.mark.parametrize("code", ["PLATFORM.INPUT_INVALID", "PLATFORM.AUTHENTICATION_INVALID"])
async def test_refusals_are_not_retried_and_recorded_failed(world: World, code: str) -> None:
    world.fake.add_fault(code, times=1, route=UPLOADS)
    person, files = candidate(), [stored_file(world, 60, "Resume")]
    result = await world.target.push(person, files, None, {})
    record = by_id(result)["att-60"]
    assert record.state == "failed" and code in (record.last_error or "")
    assert world.count() == 1
    again = await world.target.push(person, files, result.candidate, by_id(result))
    assert by_id(again)["att-60"].state == "failed" and world.count() == 1


async def test_restrictions_reject_without_sending(world: World) -> None:
    restrictions = world.fake.config.restrictions
    restrictions["COVER_LETTER"] = TypeRestriction(is_supported=False)
    restrictions["OTHER"] = TypeRestriction(max_file_size_bytes=5_000)
    files = [
        stored_file(world, 70, "Resume"),
        stored_file(world, 71, "Resume", kind="png"),  # CV accepts documents only
        stored_file(world, 72, "CoverLetter"),
        stored_file(world, 73, None, size=6_000),
    ]
    result = await world.make_target().push(candidate(), files, None, {})
    states = by_id(result)
    assert states["att-70"].state == "confirmed"
    assert "image/png" in (states["att-71"].last_error or "")
    assert "does not support COVER_LETTER" in (states["att-72"].last_error or "")
    assert "5000-byte" in (states["att-73"].last_error or "")
    assert [states[f"att-{n}"].state for n in (71, 72, 73)] == ["rejected"] * 3
    assert all(states[f"att-{n}"].attempts == 0 for n in (71, 72, 73))
    assert world.count() == 1
    names = [a.name for a in world.fake.attachments(application_of(world, result.candidate))]
    assert names == ["document-70.pdf"]


@pytest.mark.parametrize(("ours", "cap"), [(8, 30), (12, 4)])
async def test_many_uploads_at_once_all_confirmed(world: World, ours: int, cap: int) -> None:
    world.fake.config.max_concurrent_writes = cap
    world.fake.slow_write(0.05)
    world.fake.peak_writes_in_flight = 0
    # Enough attempts that no file runs out of them while 12 writers share 4 slots, however
    # slow the machine (the point is the cap, not the retry budget).
    target = world.make_target(write_concurrency=ours, attempts=200)
    files = [stored_file(world, 100 + i, None, size=2000) for i in range(45)]
    result = await target.push(candidate(), files, None, {})
    assert [r.state for r in result.uploads] == ["confirmed"] * 45
    assert len(world.fake.attachments(application_of(world, result.candidate))) == 45
    assert world.fake.peak_writes_in_flight <= min(ours, cap)
    if ours <= cap:
        assert world.count() == 45  # the cap was never hit
    else:
        assert world.count() > 45  # hit, answered 429 CONCURRENCY_LIMIT_EXCEEDED, retried


async def test_no_email_or_no_job_fails_the_candidate_cleanly(world: World) -> None:
    files = [stored_file(world, 80, "Resume")]
    for person, words in (
        (candidate(email=None), "no email"),
        (candidate(job="REQ-UNMAPPED"), "REQ-UNMAPPED"),
    ):
        result = await world.target.push(person, files, None, {})
        assert result.candidate.state == "failed" and words in (result.candidate.error or "")
        record = by_id(result)["att-80"]
        assert record.state == "pending" and record.last_error == result.candidate.error
    assert world.count("kombo") == 0


async def test_closed_job_fails_with_its_code(world: World) -> None:
    closed = job_id(world.fake, "REQ-2025-0999")
    target = world.make_target()
    target.hirer = target.hirer.model_copy(update={"default_job_id": closed})
    result = await target.push(candidate(job=None), [stored_file(world, 85, "Resume")], None, {})
    assert result.candidate.state == "failed"
    assert "ATS.JOB_CLOSED" in (result.candidate.error or "")
    assert by_id(result)["att-85"].state == "pending" and world.count() == 0


async def test_reconcile_confirms_what_is_there_and_retries_the_rest(world: World) -> None:
    person = candidate()
    files = [stored_file(world, 90, "Resume"), stored_file(world, 91, None)]
    first = await world.target.push(person, files[:1], None, {})
    unknown = by_id(first)["att-90"].model_copy(
        update={"state": "pending", "outcome_unknown": True, "ats_attachment_id": None}
    )
    done = await world.target.reconcile(person, files, first.candidate, {"att-90": unknown}, [])
    states = by_id(done)
    assert states["att-90"].state == "confirmed" and states["att-90"].ats_attachment_id
    assert states["att-91"].state == "confirmed"
    assert world.count() == 2


async def test_api_key_never_in_errors_records_or_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = world.server.info()["kombo_api_key"]
    world.fake.add_fault("REMOTE.INPUT_INVALID", route=UPLOADS, message=f"bad input with {key}")
    result = await world.target.push(candidate(), [stored_file(world, 95, "Resume")], None, {})
    record = by_id(result)["att-95"]
    assert record.state == "failed" and "REMOTE.INPUT_INVALID" in (record.last_error or "")
    wrong = await world.make_target(api_key=key + "-wrong").push(
        candidate(), [stored_file(world, 96, "Resume")], None, {}
    )
    assert "PLATFORM.AUTHENTICATION_INVALID" in (wrong.candidate.error or "")
    assert key not in str(result) and key not in str(wrong)
    everything = [result.candidate, wrong.candidate, *result.uploads, *wrong.uploads]
    assert all(key not in r.model_dump_json() for r in everything)
    assert "<redacted>" in (record.last_error or "")
    assert caplog.records and key not in caplog.text


async def test_persistent_rate_limit_gives_up_pending_then_a_later_push_sends(world: World) -> None:
    world.fake.add_fault("PLATFORM.RATE_LIMIT_EXCEEDED", times=None, route=UPLOADS, retry_after=0)
    person, files = candidate(), [stored_file(world, 97, "Resume")]
    first = await world.target.push(person, files, None, {})
    record = by_id(first)["att-97"]
    assert record.state == "pending" and not record.outcome_unknown
    assert "PLATFORM.RATE_LIMIT_EXCEEDED" in (record.last_error or "")
    assert world.count() == world.settings.retry_max_attempts
    world.fake.clear_faults()
    again = await world.target.push(person, files, first.candidate, by_id(first))
    assert by_id(again)["att-97"].state == "confirmed"
    assert len(world.fake.attachments(application_of(world, again.candidate))) == 1


async def test_reconcile_with_nothing_to_send_creates_nothing(world: World) -> None:
    person, files = candidate(), [stored_file(world, 98, "Resume")]
    done = await world.target.push(person, files, None, {})
    before = world.fake.applications_created
    lost = by_id(done)["att-98"].model_copy(update={"ats_attachment_id": None})
    other_job = person.model_copy(update={"job_reference": JOB_B})
    again = await world.target.reconcile(other_job, files, done.candidate, {"att-98": lost}, [])
    assert (
        world.fake.applications_created == before and world.count("kombo.create_application") == 1
    )
    assert by_id(again)["att-98"].ats_attachment_id is None
    mine = await world.target.reconcile(person, files, done.candidate, {"att-98": lost}, [])
    assert by_id(mine)["att-98"].ats_attachment_id == by_id(done)["att-98"].ats_attachment_id


async def test_built_from_settings_and_the_hirer_map(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = world.server.info()
    monkeypatch.setenv("SEEK_SYNC_TEST_KOMBO_KEY", info["kombo_api_key"])
    hirer = HirerTarget(
        target=TargetKind.KOMBO,
        api_key_env="SEEK_SYNC_TEST_KOMBO_KEY",
        jobs={JOB_A: job_id(world.fake, JOB_A)},
    )
    settings = world.settings.model_copy(
        update={"kombo_url": info["kombo_url"], "kombo_integration_id": None}
    )
    hirers = TargetMap(hirers={"h": hirer})
    with pytest.raises(TargetConfigError, match="integration_id"):
        AtsTargets(settings, hirers, world.http, world.blobs).for_hirer("h")
    settings = settings.model_copy(update={"kombo_integration_id": info["kombo_integration_id"]})
    target = AtsTargets(settings, hirers, world.http, world.blobs).for_hirer("h")
    assert isinstance(target, KomboTarget)
    result = await target.push(candidate(), [stored_file(world, 99, "Resume")], None, {})
    assert by_id(result)["att-99"].state == "confirmed"
