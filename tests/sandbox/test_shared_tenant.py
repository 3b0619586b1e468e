"""What the end-to-end race test of one shared Onderwijsregio tenant needs from the sandbox: a world
whose people apply to several hirers (`people`), and each create's span kept at the fake, with
the overlaps counted (`GET /_sandbox/onderwijsregio/creates`), latency included."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx

from seek_sync.sandbox.admin_routes import summary
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.onderwijsregio_creates import CreateAttempts
from seek_sync.sandbox.onderwijsregio_schema import OnderwijsregioConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.sandbox.world import build_world
from tests.sandbox.onderwijsregio_helpers import running_api


def test_a_capped_world_has_its_people_apply_to_several_hirers() -> None:
    world = build_world(seed=3, applications=80, hirers=40, edge_cases=False, people=16)
    hirers_of: defaultdict[str, set[str]] = defaultdict(set)
    for application in world.applications.values():
        person = world.candidates[application.candidate_id].person
        hirers_of[person.email].add(application.hirer_id)
    assert len(hirers_of) <= 16
    assert sum(len(h) >= 3 for h in hirers_of.values()) >= 10  # most at three hirers or more
    assert len({h for hs in hirers_of.values() for h in hs}) >= 30  # over most of the hirers
    # One Candidate per (hirer, person): the same email under each hirer's candidate id.
    assert len(world.candidates) == sum(len(h) for h in hirers_of.values())
    config = SandboxConfig(applications=80, hirers=40, people=16, seed=3, edge_cases=False)
    with SandboxServer(config) as sandbox:
        counted = summary(sandbox.state)
    assert counted["people"] == len(hirers_of)
    assert counted["people_at_several_hirers"] == sum(len(h) > 1 for h in hirers_of.values())
    uncapped = build_world(seed=3, applications=80, hirers=40, edge_cases=False)
    assert len({c.person.email for c in uncapped.candidates.values()}) > 50  # the default


def test_creates_are_kept_with_their_spans_and_overlaps_counted() -> None:
    config = SandboxConfig(applications=2, onderwijsregio=OnderwijsregioConfig(record_callers=True))
    with running_api(config) as api:
        api.sandbox.add_fault("onderwijsregio.create", "latency", delay=0.4, times=2)
        ana = {"firstName": "Ana", "email": "Ana@Example.com"}
        with httpx.Client(base_url=api.url, headers=dict(api.http.headers)) as other:
            # Two creates of one person at once, then one of someone else, then a replayed key.
            with ThreadPoolExecutor(2) as pool:
                sent = pool.map(lambda c: c.post("/candidates", json=[ana]), [api.http, other])
                assert [answer.status_code for answer in sent] == [202, 202]
            api.fake.wait_idle()
            assert api.create({"firstName": "Bo", "email": "bo@example.com"}).status_code == 202
            api.fake.wait_idle()  # Bo's create has ended before Cy's starts
            replay = api.create({"firstName": "Cy"}, **{"Idempotency-Key": "k-1"})
            assert replay.status_code == 202
            api.fake.wait_idle()  # Cy's create has ended before its key is replayed
            assert api.create({"firstName": "Cy"}, **{"Idempotency-Key": "k-1"}).status_code == 202
            api.fake.wait_idle()
        body = CreateAttempts.model_validate(
            httpx.get(api.sandbox.base_url + "/_sandbox/onderwijsregio/creates").json()
        )
    first, second, bo, cy, cy_again = body.attempts
    assert first.emails == second.emails == ["ana@example.com"] and bo.emails == ["bo@example.com"]
    assert cy.emails == [] and cy_again.replayed and not cy.replayed
    for attempt in (first, second, bo, cy):
        assert attempt.ended is not None and attempt.status == "succeeded"
        assert attempt.started <= attempt.accepted <= attempt.ended
        assert attempt.pid == os.getpid()  # this process sent them all
    assert first.accepted - first.started >= 0.35  # the injected latency is inside the span
    assert body.overlapping == 1 and body.overlapping_same_person == 1
    assert body.overlapping_across_processes == 0  # one process
    assert bo.started >= max(first.ended or 0, second.ended or 0)


def test_a_hold_parks_requests_until_released_and_names_their_callers() -> None:
    with running_api() as api:
        admin = api.sandbox.base_url + "/_sandbox/faults"
        rule = {"endpoint": "onderwijsregio.find", "kind": "hold", "delay": 30, "times": None}
        assert httpx.post(admin, json=rule).json() == {"added": 1}
        find = {"email": "nobody@example.com"}
        with ThreadPoolExecutor(2) as pool:
            parked = [pool.submit(api.http.get, "/candidates/find", params=find) for _ in "ab"]
            deadline = time.monotonic() + 10
            while httpx.get(admin + "/held").json()["parked"] < 2:
                assert time.monotonic() < deadline and not any(f.done() for f in parked)
                time.sleep(0.05)
            held = httpx.get(admin + "/held").json()
            assert held == {"parked": 2, "callers": [os.getpid()], "released": 0}
            assert httpx.post(admin + "/release").json() == {"released": 2}
            assert [f.result(timeout=10).status_code for f in parked] == [404, 404]
        assert httpx.get(admin).json() == []  # the hold rule is gone: nothing parks now
        assert api.http.get("/candidates/find", params=find).status_code == 404
        assert httpx.get(admin + "/held").json() == {"parked": 0, "callers": [], "released": 2}
        rule |= {"delay": 0.2, "times": 1}  # unreleased, a hold ends after its delay
        httpx.post(admin, json=rule)
        started = time.monotonic()
        assert api.http.get("/candidates/find", params=find).status_code == 404
        assert time.monotonic() - started >= 0.2
