"""The sandbox at benchmark scale: 1,000 related hirers, 5,000 applications, busy hirers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from seek_sync.local_stack import hirer_map
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.sandbox.state import SandboxState
from seek_sync.sandbox.world import World, build_world
from tests.processes import sandbox_process


@pytest.fixture(scope="module")
def big() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(applications=5000, hirers=1000)) as server:
        yield server


def references(world: World) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for job in world.jobs.values():
        found.setdefault(job.hirer_id, set()).add(job.seek_hirer_job_reference)
    return found


def test_a_thousand_related_hirers_each_with_jobs(big: SandboxServer) -> None:
    world = big.state.world
    assert len(world.hirers) == 1000
    assert all(hirer.relationship for hirer in world.hirers.values())
    assert len({hirer.name for hirer in world.hirers.values()}) == 1000
    assert len(world.applications) == 5000
    assert set(references(world)) == set(world.hirers)
    every = [job.seek_hirer_job_reference for job in world.jobs.values()]
    assert len(set(every)) == len(every)  # so that each maps to a Kombo job of its own
    joined = Counter(e.hirer_id for e in world.events if e.type_code == "HirerRelationshipChanged")
    assert set(joined) == set(world.hirers)


def test_every_hirer_maps_to_open_kombo_jobs_for_all_its_references(big: SandboxServer) -> None:
    world, store = big.state.world, big.state.fakes["kombo"].store
    entries = hirer_map(big, ("kombo",))["hirers"]
    assert set(entries) == set(world.hirers)
    status = {job.id: job.status for job in store.jobs.values()}
    for hirer_id, refs in references(world).items():
        jobs = entries[hirer_id]["jobs"]
        assert set(jobs) == refs, hirer_id
        assert {status[job_id] for job_id in jobs.values()} == {"OPEN"}


def test_small_worlds_keep_their_hirer_without_a_relationship() -> None:
    default = build_world(applications=0)
    assert (len(default.hirers), sum(h.relationship for h in default.hirers.values())) == (4, 3)
    ten = build_world(applications=0, hirers=10)
    assert sum(h.relationship for h in ten.hirers.values()) == 9
    eleven = build_world(applications=0, hirers=11)
    assert sum(h.relationship for h in eleven.hirers.values()) == 11


def test_busy_spreads_the_applications_over_that_many_hirers() -> None:
    config = SandboxConfig(applications=400, hirers=120, busy_hirers=7)
    world = SandboxState.from_config(config).world
    busy = {a.hirer_id for a in world.applications.values()}
    assert len(busy) == 7
    assert len(world.hirers) == 120 and all(h.relationship for h in world.hirers.values())
    events = world.add_applications(20)  # live arrivals keep to the busy hirers too
    assert len(events) == 20 and {e.hirer_id for e in events} <= busy


def test_new_applications_to_chosen_hirers_over_the_admin_api() -> None:
    config = SandboxConfig(applications=30, hirers=40, busy_hirers=2, edge_cases=False)
    with SandboxServer(config) as server:
        world, url = server.state.world, f"{server.info()['admin_url']}/applications"
        busy = {a.hirer_id for a in world.applications.values()}
        chosen = [h for h in world.hirers if h not in busy][:3]
        answer = httpx.post(url, json={"count": 12, "hirers": chosen}, timeout=30)
        assert answer.status_code == 200
        added = [e for e in world.events if e.id in set(answer.json()["events"])]
        assert len(added) == 12 and {e.hirer_id for e in added} <= set(chosen)
        for event in added:
            assert world.applications[event.profile_id or ""].hirer_id == event.hirer_id
        unknown = httpx.post(url, json={"count": 1, "hirers": ["nobody"]}, timeout=30)
        assert unknown.status_code == 404 and unknown.json()["hirers"] == ["nobody"]
        assert httpx.post(url, json={"hirers": "all"}, timeout=30).status_code == 400


def test_serve_builds_the_benchmark_world_with_busy_hirers() -> None:
    options = ("--applications", "5000", "--hirers", "1000", "--busy", "10")
    with sandbox_process(*options) as sandbox:
        summary = httpx.get(f"{sandbox.info['admin_url']}/summary", timeout=30).json()
    hirers = summary["hirers"]
    assert len(hirers) == 1000 and all(h["relationship"] for h in hirers)
    assert summary["applications"] == 5000
    assert sum(1 for h in hirers if h["applications"]) == 10
