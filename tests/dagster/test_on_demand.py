"""Hirers on demand through the whole flow, over real HTTP: one per ATS kind, the proxy as its own
process. Their uploads settle at the fakes (small files inline, big ones fetched by the ATS from
the proxy), no blob is stored for them, and none of their files' bytes is anywhere under the
home, the temp dir or the Dagster home (a stored hirer's file is: the positive control). A hirer
switched to on demand loses its stored files at once, audited."""

from __future__ import annotations

import base64
import hashlib
import tempfile
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from seek_sync.assets import checks
from seek_sync.demo import DriveReport, check, drive_until_idle
from seek_sync.driver import Driver
from seek_sync.local_stack import LocalStack, local_stack
from seek_sync.runstate.hirer_keys import HirerKeys
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.store.blobs import BlobStore
from seek_sync.store.summary import per_hirer
from tests.dagster.conftest import ats_files_stored, inbox_of, warehouse_of
from tests.dagster.leak_search import Haystack, Needle, file_haystacks, find
from tests.test_proxy import direct

CONFIG = SandboxConfig(applications=16, hirers=4, edge_cases=True)
# Files of 20-600 kB: with a 100 kB inline limit some go inline and some by URL (the proxy's).
LIMITS = {
    "SEEK_SYNC_ONDERWIJSREGIO_DATA_LIMIT_BYTES": "100000",
    "SEEK_SYNC_KOMBO_DATA_LIMIT_BYTES": "100000",
}


def contents(stack: LocalStack) -> dict[str, tuple[str, bytes]]:
    """attachment id -> (hirer, bytes) of every attachment SEEK still has, read straight from it."""
    world, base = stack.sandbox.state.world, stack.sandbox.base_url
    return {
        att.id: (
            app.hirer_id,
            direct(
                stack.sandbox,
                f"{base}/anzPublicTest/applications/{app.application_id}/attachments/{att.id}",
            ).content,
        )
        for app in world.applications.values()
        for att in app.attachments
        if not att.removed and not app.deleted
    }


def distinct_needles(files: dict[str, bytes], others: Iterable[bytes]) -> list[Needle]:
    """Per file, a 64-byte window of its first 16 kB found in no other attachment (raw, and
    base64 as sent inline); files without one (a duplicate, pure filler) get none."""
    rest = list(others)
    heads = [other[: 1 << 20] for other in rest]  # a cheap first filter
    out = []
    for attachment_id, data in files.items():
        for start in range(0, min(len(data), 1 << 14) - 64, 16):
            window = data[start : start + 64]
            if sum(window in head for head in heads) == 1 and (
                sum(window in other for other in rest) == 1
            ):
                out.append(Needle(attachment_id, "raw", window))
                out.append(Needle(attachment_id, "base64", base64.b64encode(window)[8:-8]))
                break
    return out


def places(home: Path, temp: Path) -> list[Haystack]:
    """Every file under the home (blobs, inbox, warehouse, the Dagster home) and the temp dir."""
    return [*file_haystacks(home), *file_haystacks(temp)]


def test_hirers_on_demand_settle_with_nothing_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    home = tmp_path / "home"
    with (
        local_stack(home, CONFIG, extra_env=LIMITS, on_demand=True) as stack,
        dg.DagsterInstance.get() as instance,
    ):
        seeded = ats_files_stored(stack)
        drive = DriveReport()
        drive_until_idle(Driver(instance, log_level="WARNING"), stack, drive)
        table = per_hirer(warehouse_of(stack))
        assert check(stack, table, drive, kombo_before=seeded) == []
        assert {stack.targets[h] for h in stack.on_demand} == {"onderwijsregio", "kombo"}
        rows = table.set_index("hirer_id")
        for hirer_id in stack.on_demand:
            row = rows.loc[hirer_id]
            assert (row["files"], row["bytes"], row["open"], row["failed"]) == (0, 0, 0, 0)
            assert row["on_demand"] > 0 and row["confirmed"] > 0
        blobs = BlobStore(stack.settings.blob_url)
        assert [blobs.holds(h) for h in stack.on_demand] == [0, 0]
        stored_hirers = sorted(set(stack.targets) - set(stack.on_demand))
        assert all(blobs.holds(h) > 0 for h in stored_hirers)  # positive control

        # Both ways reached the fakes for files on demand: inline bytes and the proxy's URL.
        files = contents(stack)
        on_demand = {a: data for a, (h, data) in files.items() if h in stack.on_demand}
        shas = {hashlib.sha256(data).hexdigest() for data in on_demand.values()}
        kombo = stack.sandbox.state.fakes["kombo"].store.attachments.values()
        via = {(a.via, a.sha256 in shas) for found in kombo for a in found}
        assert {("data", True), ("data_url", True)} <= via
        sources = {
            (u["source"], u["sha256"] in shas)
            for u in stack.sandbox.state.fakes["onderwijsregio"].uploads
        }
        assert len({s for s, mine in sources if mine}) == 2, sources

        # No byte of their files anywhere on disk; a stored hirer's file is found (control).
        everything = [data for _, data in files.values()]
        wanted = distinct_needles(on_demand, everything)
        assert len(wanted) // 2 >= len(on_demand) * 3 // 4, (len(wanted), len(on_demand))
        assert find(places(home, temp), wanted) == []
        stored = {a: d for a, (h, d) in files.items() if h == stored_hirers[0]}
        control = distinct_needles(stored, everything)[:2]
        assert control and find(places(home, temp), control) != []

        # Settled: another pass changes nothing at the fakes.
        at_fakes = ats_files_stored(stack)
        drive_until_idle(Driver(instance, log_level="WARNING"), stack, DriveReport())
        assert ats_files_stored(stack) == at_fakes


def test_switching_a_hirer_to_on_demand_deletes_its_files_at_once(tmp_path: Path) -> None:
    config = SandboxConfig(applications=8, hirers=2, edge_cases=False)
    with local_stack(tmp_path / "home", config) as stack, dg.DagsterInstance.get() as instance:
        drive_until_idle(Driver(instance, log_level="WARNING"), stack, DriveReport())
        blobs = BlobStore(stack.settings.blob_url)
        hirer_id = next(h for h in sorted(stack.targets) if blobs.holds(h))
        path = stack.home / "hirer-targets.yaml"
        targets = yaml.safe_load(path.read_text(encoding="utf-8"))
        targets["hirers"][hirer_id]["attachments"] = "on_demand"
        path.write_text(yaml.safe_dump(targets), encoding="utf-8")
        # No new input: the next tick sees blobs of a hirer on demand and runs it at once.
        driver = Driver(instance, log_level="WARNING")
        report = DriveReport()
        drive_until_idle(driver, stack, report)
        assert report.failed == [] and report.runs >= 1
        assert blobs.holds(hirer_id) == 0
        assert driver.tick().ran == 0  # nothing left to do: no run again
        # A run of the hirer (here a backfill) shows its mode and passes the check.
        job = driver.defs.resolve_job_def("hirer_sync")
        key = HirerKeys(inbox_of(stack)).all()[hirer_id]
        result = job.execute_in_process(instance=instance, partition_key=key)
        assert result.success
        assert _check_passed(instance, key, run=result.run_id) is True
        files = [
            m.materialization.metadata
            for m in result.get_asset_materialization_events()
            if m.materialization.asset_key == dg.AssetKey("attachment_files")
        ]
        assert files and all(m["attachments"].value == "on_demand" for m in files)
        assert all(m["bytes_stored"].value == 0 for m in files)
        assert blobs.holds(hirer_id) == 0
        with duckdb.connect(str(stack.settings.warehouse_path), read_only=True) as db:
            states = dict(
                db.execute(
                    "SELECT status, COUNT(*) FROM attachment_files WHERE hirer_id = ? GROUP BY 1",
                    [hirer_id],
                ).fetchall()
            )
            audit = db.execute(
                "SELECT kind, reason, hirer_ids FROM purges WHERE kind = 'on_demand'"
            ).fetchall()
        assert "stored" not in states and states["on_demand"] > 0
        assert audit == [("on_demand", "switched to on demand", f'["{hirer_id}"]')]


def _check_passed(instance: dg.DagsterInstance, key: str, *, run: str) -> bool | None:
    """Whether the blocking no-blob check passed for the hirer (its partition key) in that run
    (None: not run)."""
    (check,) = checks.no_blobs_on_demand.check_keys
    found = None
    for entry in instance.all_logs(run):
        event = entry.dagster_event
        if event is None or event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        data = event.event_specific_data
        if data.asset_check_key == check and data.partition == key:  # type: ignore[union-attr]
            found = bool(data.passed)  # type: ignore[union-attr]
    return found
