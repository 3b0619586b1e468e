"""`cluster up` on what exists already: a database, a bucket, a running sandbox.

A home moved up with `seek-sync migrate` lives in a database (the seek-sync schema `seek_sync`,
and the Dagster instance's `seek_sync_dagster`, where migrate recreated the hirer partitions) and
a bucket; and it was made against one sandbox world, whose ATS fakes hold what it sent. With
`--database NAME` (on the cluster's PostgreSQL), `--blobs s3://bucket/prefix` with
`--s3-endpoint URL` (an S3 that takes moto's test credentials, as the cluster's own moto does),
and `--sandbox-info FILE` (a running sandbox's start-up line, as `seek-sync sandbox serve`
prints it), the cluster runs on those instead of a fresh database, moto and sandbox. The
sandbox's webhooks are routed to the cluster's receivers. `cluster down` stops only what the
cluster started and drops nothing it adopted (docs/deploying.md, "Moving up").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from seek_sync.cluster.config import ClusterServices, ClusterState
from seek_sync.cluster.health import http_ok
from seek_sync.cluster.services import database_exists

SCHEMA = "seek_sync"  # the cluster never changes SEEK_SYNC_DATABASE_SCHEMA


@dataclass(frozen=True)
class Existing:
    """What the cluster is to use as it is (None: make a fresh one)."""

    database: str | None = None
    blob_url: str | None = None  # s3://bucket/prefix
    s3_endpoint: str | None = None
    sandbox: dict[str, Any] | None = None  # a running sandbox's start-up line

    def adopted(self) -> list[str]:
        given = {
            "database": self.database,
            "bucket": self.blob_url,
            "s3": self.s3_endpoint,
            "sandbox": self.sandbox,
        }
        return [name for name, value in given.items() if value is not None]

    def problem(self, services: ClusterServices) -> str | None:
        """Why the cluster cannot run on these (None: it can), in one line."""
        if self.blob_url is not None:
            if self.s3_endpoint is None:
                return "--blobs needs --s3-endpoint: the cluster's own moto starts empty"
            if urlsplit(self.blob_url).scheme != "s3" or not urlsplit(self.blob_url).netloc:
                return "--blobs must be s3://bucket/prefix"
        if self.s3_endpoint is not None and not http_ok(self.s3_endpoint)():
            return f"the S3 endpoint {self.s3_endpoint} does not answer"
        if self.database is not None and not database_exists(services, self.database):
            return f"no database {self.database} on the cluster's PostgreSQL"
        if self.sandbox is not None and not http_ok(self.sandbox_url + "/_sandbox/summary")():
            return f"the sandbox at {self.sandbox_url} does not answer"
        return None

    @property
    def sandbox_url(self) -> str:
        return str((self.sandbox or {}).get("base_url", ""))

    def apply(self, state: ClusterState) -> None:
        """The state names the adopted database and bucket, and records what it adopted."""
        if self.database is not None:
            state.database = self.database
        if self.blob_url is not None:
            state.bucket = urlsplit(self.blob_url).netloc
        state.adopted = self.adopted()

    def blobs(self, bucket: str) -> str:
        return self.blob_url.rstrip("/") if self.blob_url else f"s3://{bucket}/blobs"


def read_sandbox_info(path: Path) -> dict[str, Any]:
    """A sandbox's start-up JSON line (its URLs and credentials), read from `path`."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("{") and '"base_url"' in line:
            return dict(json.loads(line))
    raise ValueError(f"{path} holds no sandbox start-up line (a JSON object with base_url)")


def route_webhooks(base_url: str, receivers: list[str], duplicate_share: float) -> None:
    """The sandbox's later webhooks to the cluster's receivers, round-robin (as `sandbox serve
    --webhook-url ... --webhook-url ...` routes them)."""
    hooks = [f"{url}/webhooks/seek" for url in receivers]
    routing = {"url": hooks[0], "replicas": hooks, "duplicate_share": duplicate_share}
    httpx.put(f"{base_url}/_sandbox/webhooks", json=routing, timeout=30).raise_for_status()
