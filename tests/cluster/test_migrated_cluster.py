"""A home moved up by `seek-sync migrate`, then the local cluster run on it to settled: nothing
re-sent, counted at the fakes through the sandbox's admin API.

Two homes, each migrated by a real `seek-sync migrate` process into a private database and a moto
bucket (with its hirer partitions recreated in the Dagster instance on the same database), then
`seek-sync cluster up --database ... --blobs ... --s3-endpoint ...` (two receivers, code server,
webserver, daemon and two Celery workers) on them, in the sandbox world each home was made
against:

- the previous release's home (tests/fixtures/home-ea5e8aa.tgz: a settled world of seed 5 and
  two applications polled but never run). Its sandbox is long gone, so the test starts one of
  the same world and makes the two owed applications again with the same ids (as
  tests/dagster/test_upgrade.py does; the home's SEEK cursor names the last of them), and the
  cluster adopts it: its fakes start empty, so every file they end up holding was sent after the
  move, and it must be exactly the new applications' files (the two owed, two more), once each.
- a home made by today's code, settled against a sandbox process that stays up: the cluster
  adopts that very sandbox (`--sandbox-info`), whose fakes' ledger of what the home sent must be
  unchanged afterwards, with the new applications' files added exactly once.

`seek-sync cluster down` then stops the cluster and leaves the adopted database (the test drops
it)."""

from __future__ import annotations

import base64
import json
import sqlite3
import tarfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from typer.testing import CliRunner

from seek_sync.cli import app
from seek_sync.cluster.config import ClusterServices, ClusterState
from seek_sync.cluster.processes import alive
from seek_sync.cluster.roles import instance_variables
from seek_sync.cluster.services import database_exists
from seek_sync.cluster.view import RunningCluster, wait_settled
from seek_sync.local_stack import patched_environ
from seek_sync.process_stack import process_stack
from seek_sync.settings import load
from tests.backends import make_bucket
from tests.cluster.celery_helpers import require_services
from tests.cluster.local_cluster_helpers import cluster_environment, seek_sync
from tests.dagster.crash_helpers import _fake_files, audit, audit_duplicates, sync_until_settled
from tests.migrate_helpers import MovedUp, migrate_process, server
from tests.processes import sandbox_process
from tests.services import ADMIN_URL, database_url, private_database

FIXTURE = Path(__file__).parents[1] / "fixtures" / "home-ea5e8aa.tgz"
WORLD = ("--applications", "8", "--hirers", "4", "--seed", "5", "--no-edge-cases")  # both homes'
SETTINGS = {"SEEK_SYNC_SENSOR_INTERVAL_SECONDS": "5"}
CONFIRMED = (
    "SELECT u.target, f.sha256 FROM ats_uploads u JOIN attachment_files f USING (attachment_id) "
    "WHERE u.state = 'confirmed'"
)
PROFILES = "SELECT COUNT(*) FROM candidate_profiles WHERE status = 'ok'"


def confirmed(url: str) -> Counter[tuple[str, str]]:
    """The server's confirmed uploads, as (target, SHA-256) pairs."""
    with server(url) as conn:
        return Counter((str(t), str(sha)) for t, sha in conn.execute(CONFIRMED).fetchall())


def at_fakes(ledger: dict[str, Any]) -> Counter[tuple[str, str]]:
    """The files the ATS fakes hold (their own seeded ones aside), as (target, SHA-256) pairs."""
    return Counter(
        (kind, f["sha256"]) for kind, files in _fake_files(ledger).items() for f in files
    )


def per_target(files: Counter[tuple[str, str]]) -> dict[str, int]:
    return dict(Counter(kind for (kind, _), n in files.items() for _ in range(n)))


@contextmanager
def cluster_on(
    tmp_path: Path, moved: MovedUp, database: str, *options: str
) -> Iterator[RunningCluster]:
    """`seek-sync cluster up` on the migrated database and bucket (and `options`); `cluster down`
    after, which must stop everything and keep the database."""
    env, home = cluster_environment(SETTINGS), tmp_path / "cluster"
    blobs, endpoint = moved.server["SEEK_SYNC_BLOB_URL"], moved.server["SEEK_SYNC_S3_ENDPOINT_URL"]
    started = time.monotonic()
    up = seek_sync(
        "cluster", "up", "--home", str(home), "--ui-port", "0", "--database", database,
        "--blobs", blobs, "--s3-endpoint", endpoint, *options, env=env, cwd=tmp_path, timeout=240,
    )  # fmt: skip
    cluster = None
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "adopted: database, bucket, s3" in up.stdout, up.stdout
        print(f"migrated cluster: up in {time.monotonic() - started:.0f} s", flush=True)
        cluster = RunningCluster.at(home)
        assert cluster.state.database == database
        assert {r.name for r in cluster.state.processes} >= {"code-server", "daemon", "worker-1"}
        assert "s3" not in {r.name for r in cluster.state.processes}  # the given bucket's moto
        yield cluster
    finally:
        down = seek_sync("cluster", "down", "--home", str(home), env=env, cwd=tmp_path, timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    assert f"database {database} kept" in down.stdout
    assert ClusterState.load(home) is None and cluster is not None
    assert alive(cluster.state.processes) == {}
    assert database_exists(load(ClusterServices, postgres_url=ADMIN_URL), database)


def partitions_of(env: dict[str, str]) -> set[str]:
    """The hirer partitions of the Dagster instance `env` names (its variables)."""
    with (
        patched_environ(instance_variables(env)),
        dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance,
    ):
        return set(instance.get_dynamic_partitions("hirer"))


@dataclass
class Settled:
    added: list[str]  # the event ids of the new applications
    ledger: dict[str, Any]  # what the fakes hold
    counts: dict[str, int]  # the sandbox's requests since the first batch


def info_file(folder: Path, info: dict[str, Any]) -> Path:
    """A sandbox's start-up line in an owner-only file, as `cluster up --sandbox-info` reads it."""
    path = folder / "sandbox.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps(info) + "\n", encoding="utf-8")
    return path


def polled_to(url: str) -> str:
    """The tail of the last event id the server's SEEK events cursor names (the sandbox's
    cursors are `ev1|<index>|<id[-8:]>`, base64)."""
    with server(url) as conn:
        row = conn.execute("SELECT value FROM cursors WHERE name = 'seek_events'").fetchone()
    value = str(row[0]) if row else ""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().split("|")[-1]


def settle(cluster: RunningCluster, moved: MovedUp, url: str, new: int) -> Settled:
    """`new` applications made in SEEK (pushed as webhooks to the receivers), the cluster run to
    settled and SEEK polled past them from the migrated cursor; its hirer partitions the ones the
    migrate recreated."""
    added = cluster.admin("POST", "/_sandbox/applications", {"count": new})["events"]
    with cluster.s3_credentials(), cluster.instance() as instance:
        waited = wait_settled(cluster, instance, 150)
    print(f"migrated cluster: settled in {waited:.0f} s", flush=True)
    deadline = time.monotonic() + 60  # the sensor polls SEEK on its own ticks
    while polled_to(url) != added[-1][-8:]:
        assert time.monotonic() < deadline, f"SEEK not polled past {added[-1]}: {polled_to(url)}"
        time.sleep(1)
    migrated = partitions_of(moved.instance)
    assert migrated and partitions_of(cluster.env) == migrated
    counts = cluster.admin("GET", "/_sandbox/requests")["counts"]
    return Settled(added, cluster.admin("GET", "/_sandbox/ats/ledger"), counts)


@pytest.mark.timeout(280)
def test_the_previous_releases_home_moved_up_runs_on_the_cluster_sending_nothing_again(
    tmp_path: Path, s3_endpoint: str
) -> None:
    require_services()
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(tmp_path, filter="data")
    home = tmp_path / "seek-sync-upgrade-home"
    with sqlite3.connect(home / "inbox.sqlite3") as inbox:
        owed = [r[0] for r in inbox.execute("SELECT event_id FROM events ORDER BY seq")][-2:]
    with private_database() as database:
        url = database_url(database, "psycopg")
        home_env = {"SEEK_SYNC_HOME": str(home)}
        moved = migrate_process(
            home_env, url, make_bucket(s3_endpoint), s3_endpoint, tmp_path / "d"
        )
        assert "hirer partitions: 3 added" in moved.output, moved.output
        sent_before = confirmed(url)
        assert sum(sent_before.values()) > 10
        # SEEK's world of the home again: the two applications it polled but never ran made again
        # (the same ids, so the home's SEEK cursor names an event of this sandbox); two more.
        with sandbox_process(*WORLD) as sandbox:
            seek = sandbox.info["base_url"]
            assert at_fakes(httpx.get(f"{seek}/_sandbox/ats/ledger").json()) == Counter()
            again = httpx.post(f"{seek}/_sandbox/applications", json={"count": 2}).json()
            assert again["events"] == owed
            httpx.delete(f"{seek}/_sandbox/requests").raise_for_status()
            info = info_file(tmp_path, sandbox.info)
            with cluster_on(tmp_path, moved, database, "--sandbox-info", str(info)) as cluster:
                done = settle(cluster, moved, url, 2)
                sent_after = confirmed(url)
                new = sent_after - sent_before
                assert sent_before <= sent_after and 0 < sum(new.values()) <= 20
                # The fakes started empty: all they hold is the new files, each once; none old.
                assert at_fakes(done.ledger) == new
                assert done.counts["attachment"] == sum(new.values())  # SEEK: new files only
                assert audit_duplicates(cluster.as_stack(), done.ledger) == []
                with server(url) as conn:
                    profiles = conn.execute(PROFILES).fetchone()
                assert profiles == (8 + 2 + 2,)
    print(f"fixture home on the cluster: {per_target(new)} new files at the fakes")


@pytest.mark.timeout(280)
def test_todays_home_moved_up_runs_on_the_cluster_with_the_fakes_ledger_unchanged(
    tmp_path: Path, s3_endpoint: str
) -> None:
    require_services()
    with process_stack(tmp_path / "home", *WORLD) as stack, private_database() as database:
        sync_until_settled(stack)
        settled = audit(stack)
        assert settled.problems == [] and settled.counts["profiles"] == 8
        ledger_before = stack.ledger()
        url = database_url(database, "psycopg")
        moved = migrate_process(
            stack.env, url, make_bucket(s3_endpoint), s3_endpoint, tmp_path / "d"
        )
        sent_before = confirmed(url)
        info = info_file(tmp_path, stack.info)
        stack.admin("DELETE", "/_sandbox/requests")
        with cluster_on(tmp_path, moved, database, "--sandbox-info", str(info)) as cluster:
            assert (
                cluster.state.sandbox_url == stack.base_url and "sandbox" in cluster.state.adopted
            )
            done = settle(cluster, moved, url, 2)
            ledger, new = done.ledger, confirmed(url) - sent_before
            assert 0 < sum(new.values()) <= 10
            # The fakes' ledger of what the home sent, unchanged; the new files added once each.
            for kind in ("onderwijsregio", "kombo"):
                files = ledger[kind]["files"]
                assert all(f in files for f in ledger_before[kind]["files"]), kind
            assert at_fakes(ledger) - at_fakes(ledger_before) == new
            assert sum(at_fakes(ledger).values()) == sum(at_fakes(ledger_before).values()) + sum(
                new.values()
            )
            assert done.counts["attachment"] == sum(new.values())
            final = audit(cluster.as_stack())
            assert final.problems == [] and final.counts["profiles"] == 10
            delivered = cluster.admin("GET", "/_sandbox/webhooks")["delivered"]["delivered_by_url"]
            assert set(delivered) >= {f"{u}/webhooks/seek" for u in cluster.state.receiver_urls}
    print(f"today's home on the cluster: {per_target(new)} new files at the fakes")


def test_up_on_what_is_not_there_is_refused_in_one_line_before_anything_is_made(
    tmp_path: Path,
) -> None:
    require_services()
    services = {k: v for k, v in cluster_environment({}).items() if "_CLUSTER_" in k}
    home, info = tmp_path / "cluster", tmp_path / "sandbox.json"
    info.write_text("no start-up line here\n", encoding="utf-8")
    cases = {
        ("--blobs", "s3://bucket/blobs"): "--blobs needs --s3-endpoint",
        ("--database", "seek_sync_test_not_there"): "no database seek_sync_test_not_there",
        ("--sandbox-info", str(info)): "holds no sandbox start-up line",
    }
    for options, reason in cases.items():
        up = CliRunner().invoke(app, ["cluster", "up", "--home", str(home), *options], env=services)
        assert up.exit_code == 2 and reason in up.stderr, up.output
        assert len(up.stderr.strip().splitlines()) == 1
        assert not home.exists()
