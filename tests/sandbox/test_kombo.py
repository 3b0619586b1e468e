"""The Kombo fake over real HTTP, read through the official `kombo` SDK (retries off)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from kombo import Kombo, errors, models
from kombo.utils import BackoffStrategy, RetryConfig

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.kombo import KomboFake, kombo_fake
from seek_sync.sandbox.kombo_data import TypeRestriction
from seek_sync.sandbox.server import SandboxServer

# The SDK retries only when given a RetryConfig with strategy "backoff"; "none" states it plainly.
NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1.0, 1), retry_connection_errors=False)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
_people = itertools.count(1)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(applications=2, keep_received_files=True)) as running:
        yield running


@pytest.fixture
def fake(server: SandboxServer) -> Iterator[KomboFake]:
    kombo = kombo_fake(server.state)
    kombo.clear_faults()
    server.clear_faults()
    yield kombo
    kombo.clear_faults()
    server.clear_faults()


@pytest.fixture(scope="module")
def files() -> Iterator[tuple[str, dict[str, tuple[bytes, str]]]]:
    """A throwaway file server for `data_url`: path -> (bytes, content type)."""
    served: dict[str, tuple[bytes, str]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, ctype = served.get(self.path, (b"", ""))
            self.send_response(200 if ctype else 404)
            self.send_header("Content-Type", ctype or "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    httpd.shutdown()


def sdk(server: SandboxServer, **overrides: Any) -> Kombo:
    info = server.info()
    options: dict[str, Any] = {
        "api_key": info["kombo_api_key"],
        "integration_id": info["kombo_integration_id"],
        "server_url": info["kombo_url"],
        "retry_config": NO_RETRIES,
    }
    return Kombo(**(options | overrides))


def open_job(fake: KomboFake, remote_id: str = "REQ-2026-0417") -> str:
    return next(j.id for j in fake.store.jobs.values() if j.remote_id == remote_id)


def apply(
    client: Kombo, job_id: str, **extra: Any
) -> models.PostAtsJobsJobIDApplicationsPositiveResponse:
    n = next(_people)
    person = {"first_name": "Test", "last_name": f"Person{n}", "email_address": f"p{n}@example.com"}
    return client.ats.create_application(job_id=job_id, candidate=person, **extra)


def cv(data: bytes = PDF, **fields: Any) -> dict[str, Any]:
    return {
        "name": "CV.pdf",
        "type": "CV",
        "content_type": "application/pdf",
        "data": base64.b64encode(data).decode(),
    } | fields


def code_of(error: errors.KomboAtsError) -> str | None:
    return error.data.error.code


def test_jobs_page_through_next_and_filter(server: SandboxServer, fake: KomboFake) -> None:
    client = sdk(server)
    page = client.ats.get_jobs(page_size=3)
    jobs: list[models.GetAtsJobsPositiveResponseResult] = []
    while page is not None:
        jobs += page.result.data.results
        page = page.next()
    assert len(jobs) == len(fake.store.jobs) > 4
    assert all(len(j.id) == 24 for j in jobs)
    remote_ids = [j.remote_id for j in jobs]
    assert {"REQ-2026-0417", "REQ-2025-0999"} <= set(remote_ids)
    world_refs = {j.seek_hirer_job_reference for j in server.state.world.jobs.values()}
    assert world_refs <= set(remote_ids)
    only = client.ats.get_jobs(remote_ids=["REQ-2026-0417"])
    assert only is not None and [j.name for j in only.result.data.results] == ["Registered Nurse"]
    assert only.result.data.results[0].stages[0].index == 0


def test_candidates_by_email_any_case_and_paging(server: SandboxServer, fake: KomboFake) -> None:
    client = sdk(server)
    found = client.ats.get_candidates(email="mia.kowalski@EXAMPLE.NET")
    assert found is not None
    (mia,) = found.result.data.results
    assert mia.first_name == "Mia" and mia.applications and mia.applications[0].job
    assert (
        mia.email_addresses and mia.email_addresses[0].email_address == "Mia.Kowalski@Example.net"
    )
    seen, page = [], client.ats.get_candidates(page_size=1)
    while page is not None:
        seen += [c.id for c in page.result.data.results]
        page = page.next()
    assert len(seen) == len(set(seen)) == len(fake.store.candidates)
    by_id = client.ats.get_candidates(ids=[mia.id])
    assert by_id is not None and [c.id for c in by_id.result.data.results] == [mia.id]
    with pytest.raises(errors.KomboAtsError) as unknown:
        client.ats.get_candidates(ids=["x" * 24])
    assert unknown.value.status_code == 404
    with pytest.raises(errors.KomboAtsError) as too_big:
        client.ats.get_candidates(page_size=251)
    assert code_of(too_big.value) == "PLATFORM.INPUT_INVALID"


def test_create_application_then_duplicate(server: SandboxServer, fake: KomboFake) -> None:
    client, job_id = sdk(server), open_job(fake)
    before = fake.applications_created
    job = client.ats.get_jobs(ids=[job_id])
    assert job is not None
    question = job.result.data.results[0].screening_questions[0].id
    answers = [{"question_id": question, "answer": True}]
    made = apply(client, job_id, attachments=[cv()], screening_question_answers=answers)
    application = made.data
    assert application.job is not None and application.job.remote_id == "REQ-2026-0417"
    assert application.candidate is not None and application.current_stage is not None
    assert fake.applications_created == before + 1
    (stored,) = fake.attachments(application.id)
    assert (stored.type, stored.size, stored.sha256) == (
        "CV",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
    )
    listed = client.ats.get_applications(job_ids=[job_id])
    assert listed is not None and application.id in {a.id for a in listed.result.data.results}
    email = application.candidate.email_addresses[0].email_address  # type: ignore[index]
    again = {"first_name": "Same", "last_name": "Person", "email_address": email.upper()}
    with pytest.raises(errors.KomboAtsError) as duplicate:
        client.ats.create_application(job_id=job_id, candidate=again)
    assert code_of(duplicate.value) == "ATS.APPLICATION_ALREADY_EXISTS"
    assert duplicate.value.status_code == 409 and fake.applications_created == before + 1
    with pytest.raises(errors.KomboAtsError) as closed:
        apply(client, open_job(fake, "REQ-2025-0999"))
    assert code_of(closed.value) == "ATS.JOB_CLOSED"


async def test_upload_and_read_back_async(server: SandboxServer, fake: KomboFake) -> None:
    application = apply(sdk(server), open_job(fake)).data
    async with sdk(server) as client:
        done = await client.ats.add_application_attachment_async(
            application_id=application.id, attachment=cv(name="Resume.pdf")
        )
        assert done.STATUS == "success" and done.warnings == []
        back = await client.ats.get_application_attachments_async(application_id=application.id)
    (item,) = back.data.results
    assert (item.file_name, item.type, item.content_type) == ("Resume.pdf", "CV", "application/pdf")
    assert httpx.get(item.data_url).content == PDF
    assert fake.uploads_received(application.id) == 1


def test_data_url_is_downloaded_at_once(
    server: SandboxServer, fake: KomboFake, files: tuple[str, dict[str, tuple[bytes, str]]]
) -> None:
    base, served = files
    letter = b"Dear hiring manager,\n" * 50
    served["/letter.txt"] = (letter, "text/plain; charset=utf-8")
    client = sdk(server)
    application = apply(client, open_job(fake)).data
    attachment = {"name": "Letter.txt", "type": "COVER_LETTER", "data_url": f"{base}/letter.txt"}
    client.ats.add_application_attachment(application_id=application.id, attachment=attachment)
    (stored,) = fake.attachments(application.id)
    assert (stored.content_type, stored.via) == ("text/plain", "data_url")
    assert stored.sha256 == hashlib.sha256(letter).hexdigest()
    with pytest.raises(errors.KomboAtsError) as missing:
        client.ats.add_application_attachment(
            application_id=application.id, attachment=attachment | {"data_url": f"{base}/gone"}
        )
    assert "HTTP 404" in missing.value.data.error.message


def test_actions_endpoint_and_restrictions_enforced(server: SandboxServer, fake: KomboFake) -> None:
    info = server.info()
    headers = {
        "Authorization": f"Bearer {info['kombo_api_key']}",
        "X-Integration-Id": info["kombo_integration_id"],
    }
    url = f"{info['kombo_url']}/ats/actions/ats_add_application_attachment"
    types = httpx.get(url, headers=headers).json()["data"]["attachment_restrictions"]["types"]
    assert types["CV"]["max_file_size_bytes"] == 10_485_760
    assert "application/pdf" in types["COVER_LETTER"]["accepted_mime_types"]
    assert types["OTHER"] == {
        "is_supported": True,
        "max_file_size_bytes": 10_000_000,
        "accepted_mime_types": None,
    }
    client = sdk(server)
    application_id = apply(client, open_job(fake)).data.id

    def refused(attachment: dict[str, Any]) -> str:
        with pytest.raises(errors.KomboAtsError) as error:
            client.ats.add_application_attachment(
                application_id=application_id, attachment=attachment
            )
        assert code_of(error.value) == "PLATFORM.INPUT_INVALID"
        return error.value.data.error.message

    assert "max_file_size_bytes" in refused(cv(b"x" * 10_485_761))
    assert "accepted_mime_types" in refused(cv(content_type="image/png"))
    assert "content_type" in refused(cv(content_type="application/pdf; x=y"))
    assert "exactly one" in refused(cv(data_url="https://example.invalid/cv.pdf"))
    assert "exactly one" in refused({"name": "CV.pdf", "type": "CV"})
    assert "base64" in refused(cv() | {"data": "not base64!"})
    client.ats.add_application_attachment(
        application_id=application_id, attachment=cv(b"x" * 10_485_760)
    )
    client.ats.add_application_attachment(
        application_id=application_id, attachment=cv(type="OTHER", content_type="image/png")
    )
    fake.config.restrictions["COVER_LETTER"] = TypeRestriction(is_supported=False)
    try:
        assert not httpx.get(url, headers=headers).json()["data"]["attachment_restrictions"][
            "types"
        ]["COVER_LETTER"]["is_supported"]
        assert "is_supported" in refused(cv(type="COVER_LETTER"))
    finally:
        fake.config.restrictions["COVER_LETTER"] = fake.config.restrictions["CV"].model_copy()
    assert [a.size for a in fake.attachments(application_id)] == [10_485_760, len(PDF)]
    assert fake.uploads_received(application_id) == 9


def test_auth_errors_carry_codes(server: SandboxServer, fake: KomboFake) -> None:
    with pytest.raises(errors.KomboAtsError) as key:
        sdk(server, api_key="wrong").ats.get_jobs()
    assert (code_of(key.value), key.value.status_code) == ("PLATFORM.AUTHENTICATION_INVALID", 401)
    with pytest.raises(errors.KomboAtsError) as integration:
        sdk(server, integration_id="greenhouse:Nope").ats.get_jobs()
    assert code_of(integration.value) == "PLATFORM.INTEGRATION_NOT_FOUND"
    with pytest.raises(errors.KomboAtsError) as unknown:
        sdk(server).ats.add_application_attachment(application_id="y" * 24, attachment=cv())
    assert unknown.value.status_code == 404 and code_of(unknown.value) is None


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("REMOTE.SERVICE_UNAVAILABLE", 503),
        ("PLATFORM.RATE_LIMIT_EXCEEDED", 429),
        ("REMOTE.RATE_LIMIT_EXCEEDED", 429),
    ],
)
def test_injected_codes(server: SandboxServer, fake: KomboFake, code: str, status: int) -> None:
    client = sdk(server)
    application_id = apply(client, open_job(fake)).data.id
    fake.add_fault(code, times=2, route="kombo.add_attachment", retry_after=1)
    for _ in range(2):
        with pytest.raises(errors.KomboAtsError) as error:
            client.ats.add_application_attachment(application_id=application_id, attachment=cv())
        assert (code_of(error.value), error.value.status_code) == (code, status)
        assert error.value.headers["retry-after"] == "1"
    client.ats.add_application_attachment(application_id=application_id, attachment=cv())
    assert len(fake.attachments(application_id)) == 1


def test_faults_over_http_and_sdk_retry_when_asked(server: SandboxServer, fake: KomboFake) -> None:
    admin = f"{server.base_url}/_sandbox/kombo"
    fault = {"code": "REMOTE.SERVICE_UNAVAILABLE", "times": 1, "route": "kombo.jobs"}
    assert httpx.post(f"{admin}/faults", json=fault).json()["added"] == 1
    assert httpx.post(f"{admin}/faults", json={"code": "NOT.A_CODE"}).status_code == 400
    before = server.count("kombo.jobs")
    backoff = RetryConfig("backoff", BackoffStrategy(10, 50, 1.5, 2_000, jitter_ms=0), False)
    assert sdk(server, retry_config=backoff).ats.get_jobs() is not None
    assert server.count("kombo.jobs") == before + 2  # the SDK retried the 503 by itself
    server.add_fault("kombo.add_attachment", "error", status=503)  # a bare load-balancer 503
    with pytest.raises(errors.SDKError) as bare:
        sdk(server).ats.add_application_attachment(application_id="y" * 24, attachment=cv())
    assert bare.value.status_code == 503 and not isinstance(bare.value, errors.KomboAtsError)
    state = httpx.get(f"{admin}/state").json()
    assert state["applications_created"] == fake.applications_created
    assert len(state["attachments"]) == len(fake.attachments())
    assert httpx.delete(f"{admin}/faults").json() == {"ok": True}


async def test_concurrency_cap(server: SandboxServer, fake: KomboFake) -> None:
    application_id = apply(sdk(server), open_job(fake)).data.id
    fake.slow_write(1.0)
    fake.peak_writes_in_flight = 0
    async with sdk(server) as client:
        results = await asyncio.gather(
            *(
                client.ats.add_application_attachment_async(
                    application_id=application_id, attachment=cv(name=f"{i}.pdf")
                )
                for i in range(40)
            ),
            return_exceptions=True,
        )
    refused = [r for r in results if isinstance(r, errors.KomboAtsError)]
    assert len(refused) == 10 and len(results) - len(refused) == 30
    assert {code_of(r) for r in refused} == {"PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"}
    assert refused[0].status_code == 429
    headers = refused[0].headers
    assert (headers["concurrency-limit"], headers["concurrency-remaining"]) == ("30", "0")
    assert fake.peak_writes_in_flight == 30 and len(fake.attachments(application_id)) == 30


def test_timeout_after_write_stores_then_drops(server: SandboxServer, fake: KomboFake) -> None:
    client = sdk(server)
    application_id = apply(client, open_job(fake)).data.id
    fake.timeout_after_write(1)
    with pytest.raises(httpx.TransportError):
        client.ats.add_application_attachment(application_id=application_id, attachment=cv())
    back = client.ats.get_application_attachments(application_id=application_id)
    assert [(a.file_name, a.type) for a in back.data.results] == [("CV.pdf", "CV")]
    response = httpx.post(
        f"{server.base_url}/_sandbox/kombo/faults", json={"timeout_after_write": 1}
    )
    assert response.json()["faults"]["timeout_after_write"] == {"kombo.add_attachment": 1}
    with pytest.raises(httpx.TransportError):
        client.ats.add_application_attachment(application_id=application_id, attachment=cv())
    client.ats.add_application_attachment(application_id=application_id, attachment=cv())
    assert len(fake.attachments(application_id)) == 3
    assert fake.uploads_received(application_id) == 3
