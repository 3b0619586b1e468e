"""One parametrised fixture for the two state backends, so the same test proves both.

`backend` is `embedded` (today's SQLite inbox, DuckDB warehouse and local blobs under the test's
home) or `server` (a PostgreSQL database of the test's own, dropped after, and a bucket of its own
on a moto S3 server started once per test session). A test takes `backend.env` (the settings as
environment variables, for a child process) or `backend.overrides` (for `load_settings`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.services import database_url, private_database

BACKENDS = ["embedded", "server"]
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
S3_ENV |= {"AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class Backend:
    """Which backend a test runs on and the settings that choose it."""

    name: str
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def is_server(self) -> bool:
        return self.name == "server"

    @property
    def overrides(self) -> dict[str, object]:
        """The same settings as keyword overrides of `seek_sync.settings.load`."""
        prefix = "SEEK_SYNC_"
        return {k[len(prefix) :].lower(): v for k, v in self.env.items() if k.startswith(prefix)}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port for the whole session (started on first use)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def server_env(database: str, bucket: str, endpoint: str, home: Path) -> dict[str, str]:
    """The settings of the server backend: state in `database`, blobs in `bucket`."""
    return {
        "SEEK_SYNC_HOME": str(home),
        "SEEK_SYNC_DATABASE_URL": database_url(database, "psycopg"),
        "SEEK_SYNC_BLOB_URL": f"s3://{bucket}/blobs",
        "SEEK_SYNC_S3_ENDPOINT_URL": endpoint,
        **S3_ENV,
    }


def make_bucket(endpoint: str) -> str:
    import boto3

    bucket = f"seek-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, **_boto_credentials()).create_bucket(Bucket=bucket)
    return bucket


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_ENV["AWS_SECRET_ACCESS_KEY"],
        "region_name": S3_ENV["AWS_DEFAULT_REGION"],
    }


@contextmanager
def backend_named(
    name: str, request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """Backend `name` with its state under `home` (and, on the server, a private database and
    bucket), its settings also set in this process's environment."""
    if name == "embedded":
        chosen = Backend("embedded", home, {"SEEK_SYNC_HOME": str(home)})
        for variable, value in chosen.env.items():
            monkeypatch.setenv(variable, value)
        yield chosen
        return
    with private_database() as database:
        endpoint = request.getfixturevalue("s3_endpoint")
        env = server_env(database, make_bucket(endpoint), endpoint, home)
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        yield Backend("server", home, env)


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """The test's backend, its settings also set in this process's environment."""
    with backend_named(request.param, request, tmp_path / "home", monkeypatch) as chosen:
        yield chosen


@pytest.fixture
def server_backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """The server backend alone, for a test only PostgreSQL and S3 can show."""
    with backend_named("server", request, tmp_path / "home", monkeypatch) as chosen:
        yield chosen
