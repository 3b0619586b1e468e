"""A local stack (sandbox, receiver, env, DAGSTER_HOME) and a Dagster instance in it, per test."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from seek_sync.inbox import Inbox
from seek_sync.local_stack import LocalStack, local_stack
from seek_sync.poller import poll
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.seek.client import SeekClient, http_client
from seek_sync.store.warehouse import Warehouse

RESOURCES = {"seek_sync": SeekSyncResource(), "warehouse": WarehouseResource()}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    config = SandboxConfig(applications=16, hirers=4, edge_cases=False)
    with local_stack(tmp_path / "home", config) as running:
        yield running


@pytest.fixture
def instance(stack: LocalStack) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.get() as dagster_instance:
        yield dagster_instance


def inbox_of(stack: LocalStack) -> Inbox:
    return Inbox(stack.settings.inbox_path)  # type: ignore[arg-type]


def warehouse_of(stack: LocalStack) -> Warehouse:
    return Warehouse(stack.settings.warehouse_path)  # type: ignore[arg-type]


def poll_into_inbox(stack: LocalStack) -> int:
    """Every sandbox event into the inbox (what the sensor's poll does); returns how many."""

    async def run() -> int:
        async with http_client(stack.settings) as http:
            report = await poll(
                SeekClient(http, stack.settings), inbox_of(stack), budget_seconds=30
            )
            return report.events_new

    return asyncio.run(run())


def ats_files_stored(stack: LocalStack) -> int:
    """Files the two ATS fakes hold (Kombo's seeded applications have none)."""
    fakes = stack.sandbox.state.fakes
    kombo = sum(len(files) for files in fakes["kombo"].store.attachments.values())
    return len(fakes["onderwijsregio"].uploads) + kombo
