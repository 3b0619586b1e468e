"""`seek-sync migrate` on the previous release's home (tests/fixtures/home-ea5e8aa.tgz): upgraded,
copied whole into a private PostgreSQL database and a moto bucket, counted on both sides, its
hirer partitions recreated; run again it writes nothing, then brings over what the home gained
and lost; a database holding another home's data, or changed since, is refused with nothing
written. The end-to-end proof (a settled home moved up, then the server backend runs to settled
with nothing re-sent) is tests/dagster/test_migrate_e2e.py."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from typer.testing import CliRunner, Result

from seek_sync.backend import components, open_blobs, open_inbox
from seek_sync.cli import app
from seek_sync.ids import hirer_token, is_hirer_id
from seek_sync.migrate import HomeSettings
from seek_sync.migrate_blobs import blob_keys
from seek_sync.migrate_tables import INBOX_TABLES, TABLES, WAREHOUSE_TABLES
from seek_sync.runstate.hirer_keys import HirerKeys
from seek_sync.runstate.inbox import Inbox, InboxEvent
from seek_sync.runstate.journal import Journal
from seek_sync.settings import load
from seek_sync.store.warehouse_duckdb import DuckDBWarehouse
from tests.backends import S3_ENV, make_bucket
from tests.migrate_helpers import home_counts, server, server_counts
from tests.services import database_url, private_database

FIXTURE = Path(__file__).parent / "fixtures" / "home-ea5e8aa.tgz"


@dataclass
class Moved:
    home: Path
    env: dict[str, str | None]
    url: str  # the database, as --to takes it
    blobs: str  # the bucket prefix, as --blobs takes it
    first: Result

    def migrate(self, home: Path | None = None) -> Result:
        env = self.env | ({"SEEK_SYNC_HOME": str(home)} if home else {})
        args = ["migrate", "--to", self.url, "--blobs", self.blobs]
        return CliRunner().invoke(app, args, env=env)

    def target(self) -> HomeSettings:
        return load(HomeSettings, home=self.home, database_url=self.url, blob_url=self.blobs,
                    s3_endpoint_url=self.env["SEEK_SYNC_S3_ENDPOINT_URL"])  # fmt: skip

    def server(self) -> psycopg.Connection[tuple[object, ...]]:
        return server(self.url)


def server_state(moved: Moved) -> dict[str, object]:
    """Every row of every table on the server, and the blobs in the bucket, to compare."""
    with moved.server() as conn:
        rows: dict[str, object] = {
            t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}").fetchall()))
            for t in (*INBOX_TABLES, *WAREHOUSE_TABLES, "home_identity")
        }
    return rows | {"blobs": sorted(blob_keys(open_blobs(moved.target())))}


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> Iterator[Moved]:
    """The fixture home, unpacked and migrated once (its own database, bucket, Dagster home)."""
    root = tmp_path_factory.mktemp("migrate")
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(root, filter="data")
    home = root / "seek-sync-upgrade-home"
    (root / "dagster").mkdir()
    shutil.copyfile(home / "dagster" / "dagster.yaml", root / "dagster" / "dagster.yaml")
    with private_database() as database:
        env = S3_ENV | {
            "SEEK_SYNC_HOME": str(home),
            "SEEK_SYNC_S3_ENDPOINT_URL": s3_endpoint,
            "DAGSTER_HOME": str(root / "dagster"),
            "SEEK_SYNC_DATABASE_URL": None,  # the home is embedded: no server chosen here
        }
        bucket = make_bucket(s3_endpoint)
        case = Moved(home, env, database_url(database, "psycopg"), f"s3://{bucket}/blobs", None)  # type: ignore[arg-type]
        case.first = case.migrate()
        yield case


def test_the_previous_releases_home_moves_up_whole(moved: Moved) -> None:
    assert moved.first.exit_code == 0, moved.first.output
    counts = home_counts(moved.home)  # after the migrate: the home was upgraded first
    assert counts["events"] == 13 and counts["ats_uploads"] > 10 and counts["hirer_work"] == 0
    assert server_counts(moved.url) == counts
    with moved.server() as conn:
        shas = set(conn.execute("SELECT blob_uri FROM attachment_files WHERE status = 'stored'"))
        last = conn.execute("SELECT MAX(seq) FROM events").fetchone()[0]
    assert "  events: 13 = 13" in moved.first.output and "counts differ" not in moved.first.output
    target = moved.target()
    assert all(c.current() == c.latest for c in components(target))  # the server schema is current
    home_blobs = open_blobs(load(HomeSettings, home=moved.home))
    keys = blob_keys(home_blobs)
    bucket = open_blobs(target)
    assert keys and blob_keys(bucket) == keys and {(k,) for k in keys} >= shas
    assert all(bucket.read_bytes(k) == home_blobs.read_bytes(k) for k in sorted(keys)[:3])
    # The next event the server stores gets a seq past every one the home handed out.
    inbox = open_inbox(target)
    inbox.add_events([InboxEvent("migrate-test-1", "CandidateApplicationCreated", "webhook",
                                 "seekAnzPublicTest:organization:seek:bnmSVsue")])  # fmt: skip
    assert inbox.events_after(last)[0].event_id == "migrate-test-1"
    with moved.server() as conn:
        conn.execute("DELETE FROM events WHERE event_id = 'migrate-test-1'")
    # The hirer partitions: one per partition the old release's own Dagster instance had (keyed
    # by SEEK hirer ids there), under the hirer's key, which the server's inbox now holds.
    old = moved.home / "dagster" / "history" / "runs" / "index.db"
    with sqlite3.connect(old) as index:
        partitions = {r[0] for r in index.execute("SELECT partition FROM dynamic_partitions")}
    keys = HirerKeys(inbox).all()
    assert set(keys) == partitions and all(is_hirer_id(p) for p in partitions)
    assert all(k.endswith(f"-{hirer_token(h)[-4:]}") for h, k in keys.items()), keys
    with dg.DagsterInstance.from_config(moved.env["DAGSTER_HOME"]) as instance:
        assert set(instance.get_dynamic_partitions("hirer")) == set(keys.values())
    assert "hirer partitions: 3 added" in moved.first.output
    print(moved.first.output)  # shown with -s


HIRER = "seekAnzPublicTest:organization:seek:bnmSVsue"


def lines(result: Result) -> list[str]:
    """The per-table lines of a migrate (`  table: N written, M removed`)."""
    return [line for line in result.output.splitlines() if " written, " in line]


def test_again_it_writes_nothing_then_brings_what_the_home_gained_and_lost(moved: Moved) -> None:
    before = server_state(moved)
    again = moved.migrate()
    assert again.exit_code == 0, again.output
    assert len(lines(again)) == len(TABLES) and all(
        "0 written, 0 removed" in x for x in lines(again)
    )
    assert "blobs: 0 copied" in again.output and server_state(moved) == before  # not a byte

    # The home gains an event, a journaled file and its blob (a run that was killed) ...
    inbox = Inbox(moved.home / "inbox.sqlite3")
    inbox.add_events([InboxEvent("migrate-test-2", "CandidateApplicationCreated", "poll", HIRER)])
    home_blobs = open_blobs(load(HomeSettings, home=moved.home))
    sink = home_blobs.sink(HIRER)
    sink.begin()
    sink.write(b"a file the home stored after the first migrate\n")
    sha = hashlib.sha256(b"a file the home stored after the first migrate\n").hexdigest()
    key = sink.commit(sha)
    row = {"attachment_id": "migrate-test-file", "hirer_id": HIRER, "sha256": sha, "bytes": 48}
    row |= {"blob_uri": key, "status": "stored", "downloaded_at": "2026-12-01T00:00:00Z"}
    Journal(inbox).record("attachment_files", [row])
    gained = moved.migrate()
    assert gained.exit_code == 0, gained.output
    assert "  events: 1 written, 0 removed" in lines(gained)
    assert "  journal: 1 written, 0 removed" in lines(gained)
    assert "blobs: 1 copied" in gained.output and "counts differ" not in gained.output

    # ... then merges its journal and loses a file to a purge: the server follows.
    warehouse = DuckDBWarehouse(moved.home / "warehouse.duckdb")
    assert Journal(inbox).merge(warehouse) == 1
    with warehouse.session() as session:
        purged, purged_key = session.rows(
            "SELECT attachment_id, blob_uri FROM attachment_files WHERE status = 'stored' "
            "AND attachment_id <> 'migrate-test-file' ORDER BY 1 LIMIT 1"
        )[0]
        session.execute("DELETE FROM attachment_files WHERE attachment_id = ?", [purged])
    home_blobs.delete(purged_key)
    followed = moved.migrate()
    assert followed.exit_code == 0, followed.output
    assert "  journal: 0 written, 1 removed" in lines(followed)
    assert "  attachment_files: 1 written, 1 removed" in lines(followed)
    assert "blobs: 0 copied" in followed.output and ", 1 removed" in followed.output
    assert "counts differ" not in followed.output
    blobs = server_state(moved)["blobs"]
    assert key in blobs and purged_key not in blobs  # type: ignore[operator]


def test_counts_that_differ_fail_the_command_in_one_line(
    moved: Moved, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Positive control of the count check: the server is made to count one event short."""
    import seek_sync.migrate

    counted = seek_sync.migrate.server_counts

    def short(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, int]:
        counts = counted(conn)
        return counts | {"events": counts["events"] - 1}

    monkeypatch.setattr(seek_sync.migrate, "server_counts", short)
    failed = moved.migrate()
    assert failed.exit_code == 1 and failed.stderr.count("\n") == 1, failed.output
    assert failed.stderr.startswith("seek-sync: counts differ after copying: events (home ")
    assert "hirer partitions" not in failed.output


def test_a_database_of_another_home_or_changed_since_is_refused_with_nothing_written(
    moved: Moved, tmp_path: Path
) -> None:
    before = server_state(moved)
    other = tmp_path / "other-home"
    Inbox(other / "inbox.sqlite3").add_events(
        [InboxEvent("other-1", "CandidateApplicationCreated", "poll", HIRER)]
    )
    refused = moved.migrate(other)
    assert refused.exit_code == 2 and refused.stdout.count("\n") == 1  # the "migrating" line
    assert refused.stderr.count("\n") == 1 and "holds the data of another home" in refused.stderr
    assert server_state(moved) == before and not (other / "home-id").exists()

    # The server's own processes have written (here: one event): the home may no longer copy.
    open_inbox(moved.target()).add_events(
        [InboxEvent("server-1", "CandidateApplicationCreated", "webhook", HIRER)]
    )
    changed = server_state(moved)
    refused = moved.migrate()
    assert refused.exit_code == 2 and "has changed since this home's migrate" in refused.stderr
    assert "nothing written" in refused.stderr
    assert server_state(moved) == changed

    # A schema holding seek-sync rows that no migrate put there.
    with private_database() as database:
        url = database_url(database, "psycopg")
        target = load(HomeSettings, home=tmp_path, database_url=url)
        open_inbox(target).add_events(
            [InboxEvent("x-1", "CandidateApplicationCreated", "poll", HIRER)]
        )
        args = ["migrate", "--to", url]
        refused = CliRunner().invoke(app, args, env=moved.env)
        assert refused.exit_code == 2 and "that no migrate of this home put there" in refused.stderr
