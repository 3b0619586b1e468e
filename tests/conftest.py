"""Shared fixtures: a sandbox on a free loopback port, started in-process; the state backends."""

from __future__ import annotations

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
