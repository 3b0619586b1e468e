"""The poller against the sandbox: every event stored once, whatever fails and wherever."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from seek_sync.local_stack import SEEK_FROM_INFO
from seek_sync.poller import CURSOR_NAME, poll
from seek_sync.runstate.inbox import UNKNOWN_HIRER, Inbox
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.seek.client import SeekClient
from tests.backends import Backend
from tests.inboxes import inbox_of
from tests.seek.test_client_http import client_settings


@pytest.fixture
def own_sandbox() -> Iterator[SandboxServer]:
    """A private sandbox: these tests change its world."""
    with SandboxServer(SandboxConfig(applications=120, edge_cases=False)) as server:
        yield server


@pytest.fixture
async def client(own_sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[SeekClient]:
    settings = client_settings(own_sandbox, tmp_path, seek_events_page_size=25)
    async with httpx.AsyncClient(timeout=30) as http:
        yield SeekClient(http, settings)


def stored_ids(inbox: Inbox) -> list[str]:
    return [e.event_id for e in inbox.events_after(0)]


async def test_polls_to_the_end_and_a_second_poll_adds_nothing(
    own_sandbox: SandboxServer, client: SeekClient, tmp_path: Path
) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    first = await poll(client, inbox, budget_seconds=30)
    world_ids = [e.id for e in own_sandbox.state.world.events]
    assert stored_ids(inbox) == world_ids
    assert first.events_new == len(world_ids) and first.pages == -(-len(world_ids) // 25)
    assert inbox.get_cursor(CURSOR_NAME) == first.cursor
    second = await poll(client, inbox, budget_seconds=30)
    assert second.events_new == 0 and second.events_read == 0
    assert stored_ids(inbox) == world_ids
    hirers = {e.hirer_id for e in inbox.events_after(0)}
    assert UNKNOWN_HIRER not in hirers
    assert hirers <= set(own_sandbox.state.world.hirers)


async def test_crash_between_pages_loses_and_doubles_nothing(
    own_sandbox: SandboxServer, client: SeekClient, backend: Backend
) -> None:
    inbox = inbox_of(backend)
    await client.graphql.query("{ version }")
    own_sandbox.add_fault("graphql", "reset", skip=2, times=None)  # dies on the third page
    broken = await poll(client, inbox, budget_seconds=30)
    assert broken.errors and broken.pages == 2
    assert len(stored_ids(inbox)) == 50
    own_sandbox.clear_faults()
    await poll(client, inbox, budget_seconds=30)
    assert stored_ids(inbox) == [e.id for e in own_sandbox.state.world.events]


async def test_new_and_replayed_events_are_picked_up_once(
    own_sandbox: SandboxServer, client: SeekClient, tmp_path: Path
) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    await poll(client, inbox, budget_seconds=30)
    world = own_sandbox.state.world
    added = world.add_applications(7)
    world.replay_events([e.id for e in world.events[:5]])
    report = await poll(client, inbox, budget_seconds=30)
    assert report.events_read == 12 and report.events_new == 7
    assert stored_ids(inbox)[-7:] == [e.id for e in added]


async def test_unknown_hirer_kept_and_resolved_later(
    own_sandbox: SandboxServer, client: SeekClient, backend: Backend
) -> None:
    world = own_sandbox.state.world
    hirer_id = world.events[0].hirer_id
    hirer = world.hirers[hirer_id]
    world.remove_relationship(hirer_id)
    inbox = inbox_of(backend)
    first = await poll(client, inbox, budget_seconds=30)
    unknown = inbox.unknown_hirer_events()
    assert first.unknown_hirer == len(unknown) > 0
    assert {e.event_id for e in unknown} <= {e.id for e in world.events if e.hirer_id == hirer_id}
    hirer.relationship = True  # the relationship is restored: lookups work again
    before = inbox.max_seq()
    second = await poll(client, inbox, budget_seconds=30)
    assert second.hirers_resolved == len(unknown)
    assert inbox.unknown_hirer_events() == []
    moved = inbox.events_after(before)
    assert {e.event_id for e in moved} == {e.event_id for e in unknown}
    assert {e.hirer_id for e in moved} == {hirer_id}


async def test_time_budget_stops_between_pages(
    own_sandbox: SandboxServer, client: SeekClient, tmp_path: Path
) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    own_sandbox.add_fault("graphql", "latency", delay=0.3, times=None)
    report = await poll(client, inbox, budget_seconds=0.8)
    assert report.out_of_budget
    assert 0 < report.pages < 6
    assert len(stored_ids(inbox)) == 25 * report.pages
    assert inbox.get_cursor(CURSOR_NAME) == report.cursor


def test_poll_command_once(own_sandbox: SandboxServer, backend: Backend) -> None:
    info = own_sandbox.info()
    env = {
        **os.environ,  # the backend's settings included
        "SEEK_SYNC_HOME": str(backend.home),
        **{f"SEEK_SYNC_{name.upper()}": info[key] for name, key in SEEK_FROM_INFO.items()},
    }
    result = subprocess.run(
        [sys.executable, "-m", "seek_sync.cli", "poll", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"new={len(own_sandbox.state.world.events)}" in result.stdout
    # httpx/httpcore stay at WARNING: their INFO request lines would print every full URL.
    assert "HTTP Request:" not in result.stderr, result.stderr
    assert info["seek_graphql_url"] not in result.stderr
    assert info["client_secret"] not in result.stdout + result.stderr
    assert len(stored_ids(inbox_of(backend))) == len(own_sandbox.state.world.events)
