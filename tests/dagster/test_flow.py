"""The whole flow, events to confirmed uploads, through the driver and `seek-sync sync`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from seek_sync.demo import DriveReport, check, drive_until_idle
from seek_sync.driver import Driver
from seek_sync.local_stack import LocalStack
from seek_sync.store.summary import per_hirer
from tests.dagster.conftest import BOTH_BACKENDS, ats_files_stored, warehouse_of

SEEK_SYNC = str(Path(sys.executable).parent / "seek-sync")


@BOTH_BACKENDS
def test_events_to_confirmed_uploads_then_a_rerun_changes_nothing(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    kombo_seeded = ats_files_stored(stack)  # files on the Kombo fake's own seeded applications
    driver = Driver(instance, log_level="WARNING")
    drive = DriveReport()
    drive_until_idle(driver, stack, drive)
    assert drive.runs > 0 and not drive.failed
    table = per_hirer(warehouse_of(stack))
    assert check(stack, table, drive, kombo_before=kombo_seeded) == []
    assert set(table["mapped_target"]) == {"onderwijsregio", "kombo"}
    assert int(table["open"].sum()) == 0
    stored = ats_files_stored(stack)
    assert stored - kombo_seeded == int(table["confirmed"].sum()) > 0

    # A backfill of every hirer re-derives from the recorded events and uploads nothing again.
    job = driver.defs.resolve_job_def("hirer_sync")
    for key in driver.partition_keys():
        assert job.execute_in_process(instance=instance, partition_key=key).success
    assert stack.fakes_idle()
    assert ats_files_stored(stack) == stored
    assert per_hirer(warehouse_of(stack)).equals(table)

    quiet = driver.tick()  # nothing new: the sensor skips and no run starts
    assert quiet.ran == 0 and quiet.skipped_reason


@BOTH_BACKENDS
def test_webhook_applications_reach_the_ats_once(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    driver = Driver(instance, log_level="WARNING")
    drive_until_idle(driver, stack, DriveReport())
    before = ats_files_stored(stack)
    added = stack.sandbox.state.world.add_applications(3)
    stack.sandbox.deliver_webhooks(
        f"{stack.receiver_url}/webhooks/seek", added, duplicate=True, reorder=True
    )
    drive = DriveReport()
    drive_until_idle(driver, stack, drive)
    assert not drive.failed
    world = stack.sandbox.state.world
    new_files = [
        f
        for e in added
        for a in world.applications.values()
        if a.profile_id == e.profile_id and a.hirer_id in stack.targets
        for f in a.attachments
    ]
    table = per_hirer(warehouse_of(stack))
    assert ats_files_stored(stack) - before == len(new_files) - int(table["rejected"].sum())


@BOTH_BACKENDS
def test_sync_command_runs_one_tick_for_cron(stack: LocalStack) -> None:
    first = subprocess.run(
        [SEEK_SYNC, "sync"], capture_output=True, text=True, env=os.environ, timeout=300
    )
    assert first.returncode == 0, first.stderr[-2000:]
    assert "failed" in first.stdout and "0 failed" in first.stdout
    assert " 0 ok" not in first.stdout  # it ran the hirers' runs
    again = subprocess.run(
        [SEEK_SYNC, "sync"], capture_output=True, text=True, env=os.environ, timeout=300
    )
    assert again.returncode == 0
    assert "hirers added: 0" in again.stdout


def test_sync_command_without_dagster_home_fails_in_one_line(stack: LocalStack) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    done = subprocess.run([SEEK_SYNC, "sync"], capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "DAGSTER_HOME" in done.stderr
