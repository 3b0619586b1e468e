"""The sandbox's trickle: new applications at a rate, each one signed webhook, acceptance timed;
and the ATS fakes' own time of holding each file, in their ledger."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from tests.sandbox.onderwijsregio_helpers import item
from tests.sandbox.test_kill_points import admin, kombo, kombo_apply, kombo_cv, onderwijsregio
from tests.sandbox.test_kill_points import wait_idle as wait_fakes
from tests.sandbox.test_seek_http import authed_client
from tests.sandbox.test_webhooks_and_cli import Catcher


@pytest.fixture
def catcher() -> Iterator[Catcher]:
    server = Catcher(statuses=[])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(applications=0, hirers=3, edge_cases=False)) as server:
        yield server


def url_of(catcher: Catcher) -> str:
    return f"http://127.0.0.1:{catcher.server_address[1]}/webhooks/seek"


def trickled(sandbox: SandboxServer, ask: dict[str, Any], query: str = "") -> dict[str, Any]:
    """Start a trickle and wait for its end; its report."""
    admin_url = sandbox.info()["admin_url"]
    started = httpx.post(f"{admin_url}/trickle", json=ask, timeout=10)
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 30
    while not (report := httpx.get(f"{admin_url}/trickle{query}", timeout=30).json())["finished"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return report  # type: ignore[no-any-return]


def test_a_trickle_delivers_each_new_application_alone_signed_at_the_rate(
    sandbox: SandboxServer, catcher: Catcher
) -> None:
    related = sorted(h.id for h in sandbox.state.world.hirers.values() if h.relationship)
    report = trickled(sandbox, {"rate": 20, "duration": 0.5, "url": url_of(catcher)})
    assert (report["planned"], report["created"], report["accepted"]) == (10, 10, 10)
    assert report["failed"] == 0 and report["hirers"] == len(related) == 2
    secret = sandbox.info()["webhook_secret"].encode()
    delivered = []
    for headers, body in catcher.received:
        assert headers["seek-signature"] == hmac.new(secret, body, hashlib.sha512).hexdigest()
        (event,) = json.loads(body)["events"]  # one application, one webhook
        delivered.append(event)
    rows = report["applications"]
    assert sorted(e["id"] for e in delivered) == sorted(r["event_id"] for r in rows)
    assert {e["hirerId"] for e in delivered} <= set(related)
    world = sandbox.state.world
    assert all(world.applications[r["profile_id"]].hirer_id == r["hirer_id"] for r in rows)
    created = [r["created_at"] for r in rows]
    assert created[-1] - created[0] >= 9 / 20 - 0.02  # spread at the rate, not in one burst
    assert all(r["created_at"] <= r["accepted_at"] <= time.time() for r in rows)
    assert all(r["status"] == 204 for r in rows)


def test_acceptance_is_the_receivers_2xx_after_retries_and_a_refusal_is_counted(
    sandbox: SandboxServer, catcher: Catcher
) -> None:
    catcher.statuses = [500, 503]  # the first application's first two attempts
    (retried,) = trickled(sandbox, {"rate": 1, "duration": 1, "url": url_of(catcher)})[
        "applications"
    ]
    assert retried["status"] == 204 and len(catcher.received) == 3
    assert retried["accepted_at"] - retried["created_at"] >= 0.1 + 0.2  # after both backoffs
    refused = trickled(sandbox, {"rate": 1, "duration": 1, "url": "http://127.0.0.1:9/"})
    (nobody,) = refused["applications"]
    assert (nobody["status"], nobody["accepted_at"]) == (504, None)  # no answer: SEEK's 504
    assert (refused["accepted"], refused["failed"]) == (0, 1)


def test_digests_are_those_of_the_bytes_the_sandbox_serves(
    sandbox: SandboxServer, catcher: Catcher
) -> None:
    ask = {"rate": 20, "duration": 0.3, "url": url_of(catcher)}
    rows = trickled(sandbox, ask, "?digests=1")["applications"]
    assert sum(len(r["attachments"]) for r in rows) >= 3
    with authed_client(sandbox) as client:
        for row in rows:
            for attachment in row["attachments"]:
                path = f"/anzPublicTest/applications/{row['application_id']}/attachments/"
                body = client.get(sandbox.base_url + path + attachment["id"]).content
                assert hashlib.sha256(body).hexdigest() == attachment["sha256"]


def test_one_trickle_at_a_time_and_bad_asks_refused(sandbox: SandboxServer) -> None:
    admin_url = sandbox.info()["admin_url"]
    assert httpx.get(f"{admin_url}/trickle").status_code == 404  # none started
    assert httpx.post(f"{admin_url}/trickle", json={"rate": 0, "duration": 1}).status_code == 400
    no_url = httpx.post(f"{admin_url}/trickle", json={"rate": 1, "duration": 1})
    assert no_url.status_code == 400  # no subscription URL configured or given
    unknown = {"rate": 1, "duration": 1, "url": "http://127.0.0.1:9/", "hirers": ["nobody"]}
    assert httpx.post(f"{admin_url}/trickle", json=unknown).status_code == 404
    slow = {"rate": 1, "duration": 30, "url": "http://127.0.0.1:9/"}
    assert httpx.post(f"{admin_url}/trickle", json=slow).status_code == 202
    assert httpx.post(f"{admin_url}/trickle", json=slow).status_code == 409


def test_the_ats_fakes_stamp_each_file_with_when_they_held_it() -> None:
    with SandboxServer(SandboxConfig(applications=2)) as server:
        before = time.time()
        with onderwijsregio(server) as client:
            person = {"firstName": "T", "email": "stamp@example.com", "curriculumVitae": [item()]}
            assert client.post("/candidates", json=[person]).status_code == 202
            wait_fakes(server)
        with kombo(server) as client:
            application_id = kombo_apply(client, server, "stamp@example.com")
            sent = client.post(
                f"/applications/{application_id}/attachments", json={"attachment": kombo_cv()}
            )
            assert sent.status_code == 200
        after = time.time()
        ledger = admin(server, "/ats/ledger")
    (ow,) = ledger["onderwijsregio"]["files"]
    assert before <= ow["requested_at"] <= ow["accepted_at"] <= after
    (kb,) = [f for f in ledger["kombo"]["files"] if not f["seeded"]]
    assert before <= kb["accepted_at"] <= after
