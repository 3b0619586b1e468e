"""The machine's shared services for tests: PostgreSQL on 127.0.0.1:5432 (trust, user `postgres`).

Every test that needs PostgreSQL gets a database of its own, dropped after (other tests and CI runs
share the server). A test that needs it checks it is reachable first: under CI (`CI=true`) an
unreachable server fails the test loudly; elsewhere the test skips with one line saying how to
start it. `SEEK_SYNC_TEST_POSTGRES_URL` points the tests at another server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import NoReturn

import psycopg
import pytest

ADMIN_URL = os.environ.get(
    "SEEK_SYNC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


@cache
def postgres_error() -> str | None:
    """Why PostgreSQL cannot be used (None when it can), asked once per test session."""
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def under_ci() -> bool:
    """Whether this run is CI's (`CI=true`, as CI services set it; `1` and `yes` count too)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def fail_or_skip(missing: str, remedy: str) -> NoReturn:
    """What a test does when something it needs from the machine is missing: under CI the run
    is broken, so the test fails loudly; elsewhere it skips with one line saying how to fix it."""
    if under_ci():
        pytest.fail(f"{missing} (CI=true)")
    pytest.skip(f"{missing}; {remedy}")


def require_postgres() -> None:
    """Fail (under CI) or skip (elsewhere) the calling test when PostgreSQL is unreachable."""
    error = postgres_error()
    if error is not None:
        fail_or_skip(
            f"PostgreSQL not reachable at {ADMIN_URL}: {error}", f"start it with: {START_POSTGRES}"
        )


def database_url(name: str, driver: str = "") -> str:
    """The URL of database `name` on the test server, with a SQLAlchemy driver suffix if given."""
    base, _, _ = ADMIN_URL.rpartition("/")
    scheme, rest = base.split("://", 1)
    return f"{scheme}{'+' + driver if driver else ''}://{rest}/{name}"


@contextmanager
def private_database(prefix: str = "seek_sync_test") -> Iterator[str]:
    """A new, empty database (its name), dropped with every connection to it afterwards."""
    require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
