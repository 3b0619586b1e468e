"""The daemon's path: a run launched in its own process (as the daemon's run launcher does) is
killed mid-run at a kill point; the sensor's next tick fails it, frees its pool slot and hands its
hirers out again, and the flow settles with everything at the fakes exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from seek_sync.local_stack import patched_environ
from seek_sync.process_stack import process_stack
from seek_sync.resources import SeekSyncResource
from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.leases import Leases
from seek_sync.sensors import seek_applications
from tests.dagster.crash_helpers import audit, leftovers, sync_until_settled

DAGSTER = str(Path(sys.executable).with_name("dagster"))
WORLD = ("--applications", "20", "--hirers", "4", "--seed", "3", "--no-edge-cases")


def tick(instance: dg.DagsterInstance) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, resources={"seek_sync": SeekSyncResource()}
    )
    result = seek_applications(context)
    assert isinstance(result, dg.SensorResult)
    for add in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(add.partitions_def_name, list(add.partition_keys))
    return result


def test_a_launched_run_killed_mid_run_is_buried_by_the_sensor(tmp_path: Path) -> None:
    with process_stack(tmp_path / "home", *WORLD) as stack, patched_environ(stack.env):
        with dg.DagsterInstance.get() as instance:
            [request] = [
                r for r in tick(instance).run_requests or [] if r.job_name == "hirer_batch"
            ]
            config = tmp_path / "run.json"
            config.write_text(json.dumps(request.run_config))
            run = subprocess.Popen(
                [DAGSTER, "job", "execute", "-m", "seek_sync.definitions", "-j", "hirer_batch",
                 "-c", str(config)],
                env={**os.environ, **stack.env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            rule = {"endpoint": "kombo.add_attachment", "kind": "kill", "callers": [run.pid]}
            stack.admin("POST", "/_sandbox/faults", rule)
            assert run.wait(timeout=170) == -9
            [dead] = instance.get_runs(dg.RunsFilter(job_name="hirer_batch"))
            assert dead.status == dg.DagsterRunStatus.STARTED  # nobody else will ever end it
            assert instance.event_log_storage.get_concurrency_info("hirer_sync").claimed_slots

            again = tick(instance)  # the sensor, as the daemon evaluates it
            assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
            assert not instance.event_log_storage.get_concurrency_info("hirer_sync").claimed_slots
            handed = [h for r in again.run_requests or [] if r.job_name == "hirer_batch"
                      for h in r.run_config["ops"]["sync_hirers"]["config"]["hirers"]]  # fmt: skip
            assert set(handed) == set(request.run_config["ops"]["sync_hirers"]["config"]["hirers"])
            for later in again.run_requests or []:  # the daemon would launch these; cron will
                Leases(Inbox(Path(stack.env["SEEK_SYNC_HOME"]) / "inbox.sqlite3")).release(
                    later.run_key or ""
                )
        sync_until_settled(stack)
        assert audit(stack).problems == []
        assert leftovers(stack) == []
