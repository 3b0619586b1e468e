"""The `kill` fault (effect, SIGKILL, dropped connection) and the ATS ledger over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.kombo import kombo_fake
from seek_sync.sandbox.kombo_data import KomboApplication
from seek_sync.sandbox.onderwijsregio_schema import CALLBACK_HEADER
from seek_sync.sandbox.server import SandboxServer
from tests.sandbox.onderwijsregio_helpers import PDF as OR_PDF
from tests.sandbox.onderwijsregio_helpers import Endpoint, endpoint, item
from tests.sandbox.test_seek_http import _attachment, authed_client

PDF = b"%PDF-1.4\n% kill-point test\n%%EOF\n"


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(applications=2)) as running:
        yield running


@pytest.fixture
def victim(server: SandboxServer) -> Iterator[subprocess.Popen[bytes]]:
    """A process standing in for the seek-sync client; the sandbox is told to kill it."""
    server.clear_faults()
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
    server.clear_faults()


@pytest.fixture
def receiver() -> Iterator[Endpoint]:
    with endpoint() as running:
        yield running


def add_kill(server: SandboxServer, endpoint_name: str, pid: int | None, **rule: Any) -> None:
    """Register the rule the way a crash test in another process would: over the admin API."""
    body = {"endpoint": endpoint_name, "kind": "kill", "pid": pid} | rule
    answer = httpx.post(f"{server.info()['admin_url']}/faults", json=body)
    assert answer.json() == {"added": 1}, answer.text


def assert_sigkilled(process: subprocess.Popen[bytes]) -> None:
    assert process.wait(timeout=5) == -signal.SIGKILL


def admin(server: SandboxServer, path: str) -> Any:
    answer = httpx.get(f"{server.info()['admin_url']}{path}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_idle(server: SandboxServer, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not admin(server, "/ats/idle")["idle"]:
        assert time.monotonic() < deadline, "the ATS fakes never went idle"
        time.sleep(0.02)


def onderwijsregio(server: SandboxServer) -> httpx.Client:
    info = server.info()
    headers = {"x-api-key": info["onderwijsregio_api_key"]}
    return httpx.Client(base_url=info["onderwijsregio_url"], headers=headers, timeout=10)


def kombo(server: SandboxServer) -> httpx.Client:
    info = server.info()
    headers = {
        "Authorization": f"Bearer {info['kombo_api_key']}",
        "X-Integration-Id": info["kombo_integration_id"],
    }
    return httpx.Client(base_url=info["kombo_url"] + "/ats", headers=headers, timeout=10)


def kombo_apply(client: httpx.Client, server: SandboxServer, email: str) -> str:
    job_id = next(j.id for j in kombo_fake(server.state).store.jobs.values() if j.status == "OPEN")
    person = {"first_name": "Kill", "last_name": "Point", "email_address": email}
    made = client.post(f"/jobs/{job_id}/applications", json={"candidate": person})
    assert made.status_code == 200, made.text
    return str(made.json()["data"]["id"])


def kombo_cv(data: bytes = PDF) -> dict[str, Any]:
    encoded = base64.b64encode(data).decode()
    return {"name": "CV.pdf", "type": "CV", "content_type": "application/pdf", "data": encoded}


# --- kill points ----------------------------------------------------------------------------------
def test_kombo_attachment_is_stored_then_the_client_dies(
    server: SandboxServer, victim: subprocess.Popen[bytes]
) -> None:
    with kombo(server) as client:
        application_id = kombo_apply(client, server, "kill.kombo@example.com")
        add_kill(server, "kombo.add_attachment", victim.pid)
        with pytest.raises(httpx.TransportError):
            client.post(f"/applications/{application_id}/attachments",
                        json={"attachment": kombo_cv()})  # fmt: skip
        assert_sigkilled(victim)
        listed = client.get(f"/applications/{application_id}/attachments").json()
    assert [a["file_name"] for a in listed["data"]["results"]] == ["CV.pdf"]
    stored = admin(server, "/ats/ledger")["kombo"]["files"]
    files = [f for f in stored if f["owner"] == application_id]
    assert [f["sha256"] for f in files] == [hashlib.sha256(PDF).hexdigest()]


def test_onderwijsregio_create_is_applied_and_called_back_after_the_kill(
    server: SandboxServer, victim: subprocess.Popen[bytes], receiver: Endpoint
) -> None:
    add_kill(server, "onderwijsregio.create", victim.pid)
    person = {"firstName": "Kim", "email": "kill.create@example.com", "curriculumVitae": [item()]}
    with onderwijsregio(server) as client:
        with pytest.raises(httpx.TransportError):
            client.post("/candidates", json=[person], headers={CALLBACK_HEADER: receiver.base_url})
        assert_sigkilled(victim)
        (callback,) = receiver.wait(1)
        wait_idle(server)
        found = client.get("/candidates/find", params={"email": person["email"]})
    assert found.status_code == 200
    candidate = found.json()["data"]
    assert [f["filename"] for f in candidate["curriculumVitae"]] == ["cv.pdf"]
    assert callback.json()["status"] == "succeeded"
    assert callback.json()["candidateIds"] == [candidate["id"]]


def test_onderwijsregio_attachments_are_applied_and_called_back_after_the_kill(
    server: SandboxServer, victim: subprocess.Popen[bytes], receiver: Endpoint
) -> None:
    with onderwijsregio(server) as client:
        made = client.post("/candidates", json=[{"firstName": "Ada", "email": "kill.att@x.nl"}])
        assert made.status_code == 202
        wait_idle(server)
        found = client.get("/candidates/find", params={"email": "kill.att@x.nl"})
        candidate_id = found.json()["data"]["id"]
        add_kill(server, "onderwijsregio.attachments", victim.pid)
        with pytest.raises(httpx.TransportError):
            client.post(f"/candidates/{candidate_id}/attachments",
                        json={"otherAttachments": [item("letter.pdf")]},
                        headers={CALLBACK_HEADER: receiver.base_url})  # fmt: skip
        assert_sigkilled(victim)
        (callback,) = receiver.wait(1)
        wait_idle(server)
    assert callback.json()["operation"] == "attachments"
    assert callback.json()["status"] == "succeeded"
    files = admin(server, "/ats/ledger")["onderwijsregio"]["files"]
    mine = [(f["field"], f["filename"]) for f in files if f["owner"] == candidate_id]
    assert mine == [("otherAttachments", "letter.pdf")]


def test_download_sends_about_half_then_kills_and_drops(
    server: SandboxServer, victim: subprocess.Popen[bytes]
) -> None:
    url, record = _attachment(server, "image_jpeg")
    add_kill(server, "attachment", victim.pid)
    received = 0
    with authed_client(server) as client:
        with pytest.raises(httpx.TransportError), client.stream("GET", url) as response:
            assert int(response.headers["content-length"]) == record.size
            for chunk in response.iter_raw():
                received += len(chunk)
        assert_sigkilled(victim)
        assert len(client.get(url).content) == record.size  # the rule was used up
    assert 0.4 * record.size <= received <= 0.6 * record.size


def test_generic_kill_applies_the_effect_first(
    server: SandboxServer, victim: subprocess.Popen[bytes]
) -> None:
    info = server.info()
    body = {"client_id": info["client_id"], "client_secret": info["client_secret"],
            "audience": info["audience"], "grant_type": "client_credentials"}  # fmt: skip
    issued = server.state.tokens.issued
    add_kill(server, "token", victim.pid, skip=1)
    assert httpx.post(info["seek_token_url"], json=body).status_code == 200  # skipped
    assert victim.poll() is None
    with pytest.raises(httpx.TransportError):
        httpx.post(info["seek_token_url"], json=body)
    assert_sigkilled(victim)
    assert server.state.tokens.issued == issued + 2
    assert httpx.post(info["seek_token_url"], json=body).status_code == 200  # times=1: used up
    assert [r.fault for r in server.requests("token")][-3:] == [None, "kill", None]


def test_kill_without_a_live_pid_drops_the_connection_and_the_sandbox_lives_on(
    server: SandboxServer,
) -> None:
    server.clear_faults()
    with open("/proc/sys/kernel/pid_max") as pid_max:
        no_such_pid = int(pid_max.read())  # pids stay below pid_max: no process has this one
    url = server.info()["seek_token_url"]
    add_kill(server, "token", None)
    add_kill(server, "token", no_such_pid)
    for _ in range(2):
        with pytest.raises(httpx.TransportError):
            httpx.post(url, json={})
    assert httpx.post(url, json={}).status_code == 400
    faults = f"{server.info()['admin_url']}/faults"
    for bad in ({"kind": "kill", "pid": 0}, {"kind": "kill", "pid": -1}):
        assert httpx.post(faults, json=bad).status_code == 400


# --- ledger and idle ------------------------------------------------------------------------------
def test_idle_is_false_while_a_callback_is_pending(
    server: SandboxServer, receiver: Endpoint
) -> None:
    faults = f"{server.info()['admin_url']}/onderwijsregio/faults"
    assert httpx.post(faults, json={"late_callbacks": 0.5}).status_code == 200
    try:
        with onderwijsregio(server) as client:
            person = {"firstName": "Ida", "email": "idle@example.com"}
            answer = client.post(
                "/candidates", json=[person], headers={CALLBACK_HEADER: receiver.base_url}
            )
            assert answer.status_code == 202
            assert admin(server, "/ats/idle") == {"idle": False}
            receiver.wait(1)
            wait_idle(server)
    finally:
        httpx.post(faults, json={"late_callbacks": 0})
    assert admin(server, "/ats/idle") == {"idle": True}


def test_ledger_lists_everything_and_summarises_duplicates() -> None:
    with SandboxServer(SandboxConfig(applications=2)) as fresh:
        empty = admin(fresh, "/ats/ledger")
        assert empty["onderwijsregio"] == {
            "candidates": [], "files": [], "duplicates": {"emails": [], "files": []}
        }  # fmt: skip
        seeded = empty["kombo"]["applications"]
        assert seeded and all(a["seeded"] for a in seeded)
        assert all(f["seeded"] for f in empty["kombo"]["files"])
        assert empty["kombo"]["duplicates"] == {"applications": [], "files": []}

        with onderwijsregio(fresh) as client:
            twins = [{"firstName": "A", "email": "Twin@Example.com"},
                     {"firstName": "B", "email": "twin@example.com"}]  # fmt: skip
            assert client.post("/candidates", json=twins).status_code == 202
            wait_idle(fresh)
            first = admin(fresh, "/ats/ledger")["onderwijsregio"]["candidates"][0]["id"]
            twice = {"curriculumVitae": [item("a.pdf")], "otherAttachments": [item("b.pdf")]}
            assert client.post(f"/candidates/{first}/attachments", json=twice).status_code == 202
            wait_idle(fresh)
        with kombo(fresh) as client:
            application_id = kombo_apply(client, fresh, "dup@example.com")
            for _ in range(2):
                sent = client.post(f"/applications/{application_id}/attachments",
                                   json={"attachment": kombo_cv()})  # fmt: skip
                assert sent.status_code == 200
        store = kombo_fake(fresh.state).store
        original = store.applications[application_id]  # the API refuses a second one: force it
        store.applications["forced-duplicate"] = KomboApplication(
            "forced-duplicate", "1", original.candidate_id, original.job_id, original.stage_id,
            original.created_at, original.changed_at,
        )  # fmt: skip

        ledger = admin(fresh, "/ats/ledger")

    ow = ledger["onderwijsregio"]
    ids = [c["id"] for c in ow["candidates"]]
    assert [c["email"] for c in ow["candidates"]] == ["Twin@Example.com", "twin@example.com"]
    assert ow["duplicates"]["emails"] == [
        {"email": "twin@example.com", "sandbox": False, "ids": ids}
    ]
    assert {(f["owner"], f["field"], f["filename"], f["size"]) for f in ow["files"]} == {
        (first, "curriculumVitae", "a.pdf", len(OR_PDF)),
        (first, "otherAttachments", "b.pdf", len(OR_PDF)),
    }
    (dup_file,) = ow["duplicates"]["files"]
    assert dup_file["owner"] == first and len(dup_file["ids"]) == 2
    assert dup_file["sha256"] == ow["files"][0]["sha256"]

    kb = ledger["kombo"]
    mine = [a for a in kb["applications"] if not a["seeded"]]
    assert [(a["id"], a["email"]) for a in mine] == [
        (application_id, "dup@example.com"), ("forced-duplicate", "dup@example.com")
    ]  # fmt: skip
    assert kb["duplicates"]["applications"] == [
        {"job_id": mine[0]["job_id"], "email": "dup@example.com",
         "ids": [application_id, "forced-duplicate"]}
    ]  # fmt: skip
    files = [f for f in kb["files"] if not f["seeded"]]
    assert [(f["owner"], f["filename"], f["size"]) for f in files] == [
        (application_id, "CV.pdf", len(PDF))
    ] * 2
    assert kb["duplicates"]["files"] == [
        {"owner": application_id, "sha256": hashlib.sha256(PDF).hexdigest(),
         "ids": [f["id"] for f in files]}
    ]  # fmt: skip


def test_a_callers_rule_kills_only_the_process_that_makes_the_call(server: SandboxServer) -> None:
    server.clear_faults()
    url = server.info()["seek_token_url"]
    caller = subprocess.Popen(
        [sys.executable, "-c", f"import httpx, time; time.sleep(1.0); httpx.post({url!r})"]
    )
    try:
        add_kill(server, "token", None, callers=[caller.pid])
        mine = httpx.post(url)  # this process is not a listed caller: answered, rule kept
        assert mine.status_code in (400, 401)
        assert [f["kind"] for f in admin(server, "/faults")] == ["kill"]
        caller.wait(timeout=20)
        assert_sigkilled(caller)  # the caller itself, found from its connection
        assert admin(server, "/faults") == []
    finally:
        if caller.poll() is None:
            caller.kill()
        server.clear_faults()
