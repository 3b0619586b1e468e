"""Shared fixtures: a sandbox on a free loopback port, started in-process; the state backends."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from tests.backends import backend, s3_endpoint, server_backend

__all__ = [
    "backend",
    "s3_endpoint",
    "server_backend",
]  # fixtures of tests/backends.py, for every test module


@pytest.fixture(scope="session", autouse=True)
def interruptible() -> None:
    """A suite started from a background job (CI) inherits SIGINT ignored; Dagster's in-process
    runs then set SIGTERM to it too (seek_sync/child_signals.py), and every process a test starts
    with a bare Popen would ignore SIGTERM. Ctrl-C's handler as an interactive run has it."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One default sandbox for the whole run (data set with every edge case)."""
    with SandboxServer(SandboxConfig()) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The shared sandbox with no faults left over and an empty request log."""
    sandbox_server.clear_faults()
    sandbox_server.state.log.clear()
    yield sandbox_server
    sandbox_server.clear_faults()
