"""A local cluster's services, names and state file.

The services are the machine's own, on their standard loopback ports unless the settings say
otherwise: `SEEK_SYNC_CLUSTER_POSTGRES_URL` (a role that may create databases, connected to an
existing one), `SEEK_SYNC_CLUSTER_BROKER_URL` (RabbitMQ) and `SEEK_SYNC_CLUSTER_REDIS_URL`. Each
cluster takes a token and names its database, Celery queue and worker names after it, so clusters
(and CI runs) sharing those servers never meet. The state file (`cluster.json` under the cluster's
home) holds no secret: the processes (pid, start time, process group), ports, database, queue and
directories, so `cluster down` stops exactly what `cluster up` started. The environment the
processes were given (sandbox credentials among it) is kept beside it, owner-only.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from seek_sync.settings import ENV_PREFIX, SettingsBase

STATE_FILE = "cluster.json"
ENV_FILE = "env.json"  # owner-only: the processes' settings, for `demo --cluster` and a shell
DEFAULT_HOME = Path(".seek-sync/cluster")


class ClusterServices(SettingsBase):
    """Where the machine's PostgreSQL, RabbitMQ and Redis answer (all three are secrets: they may
    hold passwords)."""

    model_config = SettingsConfigDict(
        env_prefix=f"{ENV_PREFIX}CLUSTER_", extra="ignore", validate_default=True, frozen=True
    )

    postgres_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/postgres")
    broker_url: SecretStr = SecretStr("pyamqp://guest:guest@127.0.0.1:5672//")
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")

    @field_validator("postgres_url")
    @classmethod
    def _postgres(cls, value: SecretStr) -> SecretStr:
        if urlsplit(value.get_secret_value()).scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL (libpq's, no driver named)")
        return value

    def database_url(self, database: str) -> str:
        """The URL of `database` on the same server, with seek-sync's driver named."""
        parts = urlsplit(self.postgres_url.get_secret_value())
        return parts._replace(scheme="postgresql+psycopg", path=f"/{database}").geturl()


class ProcessRecord(BaseModel):
    """One process the cluster started: the leader of its own process group."""

    name: str
    pid: int
    started: float  # the process's start time (psutil): a pid reused later is not ours
    folder: Path  # holds `cwd/`, `tmp/` (its TMPDIR) and `log`
    port: int | None = None

    @property
    def cwd(self) -> Path:
        return self.folder / "cwd"

    @property
    def tmp(self) -> Path:
        return self.folder / "tmp"

    @property
    def log(self) -> Path:
        return self.folder / "log"


class ClusterState(BaseModel):
    """What `cluster up` started and made, as `cluster down` needs it."""

    token: str
    home: Path
    database: str
    queue: str
    bucket: str
    # What the cluster uses but did not make (`cluster up --database/--blobs/--sandbox-info`):
    # `cluster down` leaves those as they were.
    adopted: list[str] = Field(default_factory=list)
    ui_url: str = ""
    sandbox_url: str = ""
    receiver_urls: list[str] = Field(default_factory=list)
    workers: list[str] = Field(default_factory=list)  # Celery node names (`name@host`)
    processes: list[ProcessRecord] = Field(default_factory=list)

    @classmethod
    def new(cls, home: Path) -> ClusterState:
        token = secrets.token_hex(4)
        name = f"seek_sync_cluster_{token}"
        bucket = f"seek-sync-cluster-{token}"
        return cls(token=token, home=home, database=name, queue=name, bucket=bucket)

    def process(self, name: str) -> ProcessRecord:
        return next(p for p in self.processes if p.name == name)

    def save(self) -> None:
        path = self.home / STATE_FILE
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")

    @classmethod
    def load(cls, home: Path) -> ClusterState | None:
        path = home / STATE_FILE
        if not path.exists():
            return None
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


def save_environment(home: Path, env: dict[str, str]) -> Path:
    """The environment of the cluster's run processes, owner-only (0600): it holds the sandbox's
    credentials and the database URL."""
    path = home / ENV_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(env, out, indent=2, sort_keys=True)
    os.chmod(path, 0o600)
    return path


def load_environment(home: Path) -> dict[str, str]:
    return dict(json.loads((home / ENV_FILE).read_text(encoding="utf-8")))
