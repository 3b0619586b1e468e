"""A home made by the previous release (ea5e8aa: inbox, warehouse, blobs, Dagster home) is
upgraded in place by this one: nothing lost, nothing sent again, its owed work done, and its hirer
partitions (keyed by SEEK hirer ids then) renamed to hirer keys with their latest totals.

The fixture was made by `tests/fixtures/make_old_home.py` run with release ea5e8aa's code
(`git worktree add /tmp/old ea5e8aa`, then `PYTHONPATH=/tmp/old python make_old_home.py
/tmp/seek-sync-upgrade-home`): a settled sandbox world (seed 5, 8 applications) plus two more
applications polled into the inbox and never run. It is unpacked at the same absolute path, since
the warehouse records each blob's URI.
"""

from __future__ import annotations

import shutil
import sqlite3
import tarfile
from pathlib import Path

import dagster as dg

from seek_sync.ids import is_hirer_id
from seek_sync.pipeline.totals import STATE_OF
from seek_sync.process_stack import process_stack
from seek_sync.runstate.hirer_keys import HirerKeys
from seek_sync.runstate.inbox import Inbox
from seek_sync.store.warehouse_duckdb import DuckDBWarehouse
from tests.dagster.crash_helpers import audit_duplicates, leftovers, sync_until_settled

FIXTURE = Path(__file__).parent.parent / "fixtures" / "home-ea5e8aa.tgz"
HOME = Path("/tmp/seek-sync-upgrade-home")
WORLD = ("--applications", "8", "--hirers", "4", "--seed", "5", "--no-edge-cases")
TABLES = ("application_events", "candidate_profiles", "attachment_files", "ats_uploads")


def snapshot(home: Path) -> dict[str, set[tuple[object, ...]]]:
    queries = {
        "application_events": "SELECT event_id FROM application_events",
        "candidate_profiles": "SELECT profile_id, status FROM candidate_profiles",
        "attachment_files": "SELECT attachment_id, sha256 FROM attachment_files",
        "ats_uploads": "SELECT attachment_id, state FROM ats_uploads",
    }
    with DuckDBWarehouse(home / "warehouse.duckdb").connect(read_only=True) as db:
        return {table: set(db.execute(sql).fetchall()) for table, sql in queries.items()}


def test_a_home_of_the_previous_release_upgrades_in_place() -> None:
    shutil.rmtree(HOME, ignore_errors=True)
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(HOME.parent, filter="data")
    before = snapshot(HOME)
    with sqlite3.connect(HOME / "dagster" / "history" / "runs" / "index.db") as index:
        old_partitions = [r[0] for r in index.execute("SELECT partition FROM dynamic_partitions")]
    assert old_partitions and all(is_hirer_id(p) for p in old_partitions)  # the old keys
    old_events = [e.event_id for e in Inbox(HOME / "inbox.sqlite3").events_after(0)]
    assert (
        len(before["ats_uploads"]) > 10 and len(old_events) == len(before["application_events"]) + 2
    )
    try:
        with process_stack(HOME, *WORLD) as stack:
            # The sandbox world of the old home, and the two applications it polled but never ran.
            added = stack.admin("POST", "/_sandbox/applications", {"count": 2})["events"]
            assert added == old_events[-2:]
            stack.admin("DELETE", "/_sandbox/requests")
            sync_until_settled(stack)
            after = snapshot(HOME)
            for table in TABLES:
                kept = {row[0] for row in before[table]}
                assert kept <= {row[0] for row in after[table]}, f"{table} lost rows"
            assert before["ats_uploads"] <= after["ats_uploads"]  # settled uploads untouched
            assert len(after["candidate_profiles"]) == len(before["candidate_profiles"]) + 2
            counts = stack.admin("GET", "/_sandbox/requests")["counts"]
            writes = {k: v for k, v in counts.items() if "create" in k or "attachment" in k}
            new_files = len(after["ats_uploads"]) - len(before["ats_uploads"])
            assert 0 < new_files <= 10  # only the two new applications' files went out
            assert audit_duplicates(stack) == []
            assert leftovers(stack) == []
            keys = HirerKeys(Inbox(HOME / "inbox.sqlite3")).all()
            with dg.DagsterInstance.from_config(stack.env["DAGSTER_HOME"]) as instance:
                assert instance.get_runs_count() > 6  # the old release's runs are still there
                partitions = instance.get_dynamic_partitions("hirer")
                assert sorted(partitions) == sorted(keys.values())  # renamed, none left behind
                assert set(keys) >= set(old_partitions)
                for hirer_id in old_partitions:  # each asset's latest totals came along
                    for asset in STATE_OF:
                        latest = instance.fetch_materializations(
                            dg.AssetRecordsFilter(
                                asset_key=dg.AssetKey(asset), asset_partitions=[keys[hirer_id]]
                            ),
                            limit=1,
                        ).records
                        assert latest, (asset, keys[hirer_id])
            print(f"\npartitions renamed: {sorted(keys.values())}")
            print(f"\nwrites at the fakes after the upgrade: {writes}")
    finally:
        shutil.rmtree(HOME, ignore_errors=True)
