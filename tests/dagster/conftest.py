"""A local stack (sandbox, receiver, env, DAGSTER_HOME) and a Dagster instance in it, per test.

The stack runs on the embedded backend unless its test module opts into both with
`pytestmark = BOTH_BACKENDS`: then each test runs once per backend (`tests/backends.py`: on the
server, a private PostgreSQL database holding the state and Dagster's instance, blobs on S3).
Helpers open the stores through `seek_sync.backend`, so they work on either.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from seek_sync.backend import open_blobs, open_inbox, open_warehouse
from seek_sync.demo import DriveReport, drive_until_idle
from seek_sync.driver import Driver
from seek_sync.local_stack import LocalStack, local_stack
from seek_sync.poller import PollReport, poll
from seek_sync.resources import SeekSyncResource, WarehouseResource
from seek_sync.runstate.inbox import Inbox
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Warehouse
from tests.backends import BACKENDS, Backend, backend_named

RESOURCES = {"seek_sync": SeekSyncResource(), "warehouse": WarehouseResource()}
# A module's `pytestmark`: its `stack` tests run on both backends.
BOTH_BACKENDS = pytest.mark.parametrize("stack_backend", BACKENDS, indirect=True)


@pytest.fixture
def stack_backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """The backend of the test's stack: embedded, or the one `BOTH_BACKENDS` gives."""
    name = getattr(request, "param", "embedded")
    with backend_named(name, request, tmp_path / "home", monkeypatch) as chosen:
        yield chosen


@pytest.fixture
def stack(stack_backend: Backend) -> Iterator[LocalStack]:
    config = SandboxConfig(applications=16, hirers=4, edge_cases=False)
    with local_stack(stack_backend.home, config, extra_env=stack_backend.env) as running:
        yield running


@pytest.fixture
def instance(stack: LocalStack) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.get() as dagster_instance:
        yield dagster_instance


def inbox_of(stack: LocalStack) -> Inbox:
    return open_inbox(stack.settings)


def warehouse_of(stack: LocalStack) -> Warehouse:
    return open_warehouse(stack.settings)


def blobs_of(stack: LocalStack) -> BlobStore:
    return open_blobs(stack.settings)


def is_server(stack: LocalStack) -> bool:
    return stack.settings.database_url is not None


def rows(stack: LocalStack, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """A warehouse query's rows (`?` parameters, SQL both backends accept)."""
    with warehouse_of(stack).session() as db:
        return db.rows(sql, params or [])


def write(stack: LocalStack, sql: str, params: list[Any] | None = None) -> None:
    """One warehouse statement (an UPDATE or DELETE), committed."""
    with warehouse_of(stack).session() as db:
        db.execute(sql, params or [])


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
