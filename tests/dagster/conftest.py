"""A local stack (sandbox, receiver, env, DAGSTER_HOME) and a Dagster instance in it, per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from seek_sync.demo import DriveReport, drive_until_idle
from seek_sync.driver import Driver
from seek_sync.local_stack import LocalStack, local_stack
from seek_sync.poller import PollReport, poll
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.runstate.inbox import Inbox
from seek_sync.sandbox.config import SandboxConfig
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
    return Inbox(stack.settings.inbox_path)


def warehouse_of(stack: LocalStack) -> Warehouse:
    return Warehouse(stack.settings.warehouse_path)


def poll_inbox() -> PollReport:
    """What a sensor tick does first: SEEK's events into the inbox (no run is started)."""
    resource = SeekSyncResource()
    inbox = resource.inbox()
    return resource.with_seek(lambda client: poll(client, inbox, budget_seconds=30))


def ats_files_stored(stack: LocalStack) -> int:
    """Files the two ATS fakes hold together."""
    return sum(stack.files_at_fakes().values())


def drive_until_settled(stack: LocalStack, instance: dg.DagsterInstance) -> Driver:
    """Sensor ticks and their runs in this process until no hirer owes work; none may fail."""
    driver = Driver(instance, log_level="WARNING")
    report = DriveReport()
    drive_until_idle(driver, stack, report)
    assert report.failed == []
    return driver
