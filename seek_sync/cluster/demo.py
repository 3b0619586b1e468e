"""`seek-sync demo --cluster`: the demo's flow and count check on a running local cluster.

The daemon's sensor does the driving here (nothing is ticked by this process): wait until the
cluster has settled the sandbox's world, have the sandbox push five new applications as signed
webhooks to both receivers (some batches twice, as its routing says) and once more, duplicated
and reordered, wait until settled again, then run the demo's count check (`seek_sync.demo.
compare`) with the facts read over the sandbox's admin API, and print the demo's summary.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg

from seek_sync.backend import open_blobs, open_warehouse
from seek_sync.cluster.view import RunningCluster, wait_settled
from seek_sync.demo import AtTheFakes, DriveReport, compare, print_summary
from seek_sync.progress import CommandProgress
from seek_sync.settings import BlobFields, WarehouseFields
from seek_sync.store.summary import per_hirer, rejections

NEW_APPLICATIONS = 5
SENSOR = "seek_applications"


def at_the_fakes(cluster: RunningCluster) -> AtTheFakes:
    """The demo's facts, read over the sandbox's admin API (`AtTheFakes` of `seek_sync.demo`)."""
    targets = cluster.targets()
    on_demand = targets.on_demand()
    expected: dict[str, dict[str, int]] = {}
    for hirer in cluster.admin("GET", "/_sandbox/summary")["hirers"]:
        if hirer["id"] not in targets.hirers or not hirer["applications"]:
            continue
        kept = hirer["id"] not in on_demand
        present = hirer["present_attachments"]
        expected[hirer["id"]] = {
            "applications": hirer["applications"],
            "files": present if kept else 0,
            "on_demand": 0 if kept else present,
            "bytes": hirer["present_bytes"] if kept else 0,
            "not_stored": hirer["attachments"] - present,
        }
    ledger = cluster.admin("GET", "/_sandbox/ats/ledger")
    blobs = open_blobs(cluster.settings(BlobFields))
    return AtTheFakes(
        expected,
        duplicate_people(ledger),
        {
            "onderwijsregio": sum(not f["sandbox"] for f in ledger["onderwijsregio"]["files"]),
            "kombo": sum(not f["seeded"] for f in ledger["kombo"]["files"]),
        },
        {hirer_id: blobs.holds(hirer_id) for hirer_id in sorted(on_demand)},
    )


def duplicate_people(ledger: dict[str, Any]) -> list[str]:
    """Emails held by more than one candidate at an ATS fake (its production store)."""
    onderwijsregio = [
        f"onderwijsregio: {d['email']}"
        for d in ledger["onderwijsregio"]["duplicates"]["emails"]
        if not d["sandbox"]
    ]
    people: dict[str, set[str]] = {}
    for application in ledger["kombo"]["applications"]:
        email = application["email"].casefold()
        people.setdefault(email, set()).add(application["candidate_id"])
    return onderwijsregio + [f"kombo: {e}" for e, ids in people.items() if len(ids) > 1]


def drive_report(instance: dg.DagsterInstance, ignore: frozenset[str] = frozenset()) -> DriveReport:
    """The sensor's ticks and the runs so far; failed runs other than `ignore` (by run id)."""
    runs = instance.get_runs()
    failed = [
        f"{r.job_name} {r.run_id[:8]}"
        for r in runs
        if r.status == dg.DagsterRunStatus.FAILURE and r.run_id not in ignore
    ]
    ticks = Counter(t.instigator_name for t in _ticks(instance))
    return DriveReport(ticks=ticks[SENSOR], runs=len(runs), failed=failed)


def _ticks(instance: dg.DagsterInstance) -> list[Any]:
    from dagster._core.scheduler.instigation import InstigatorType

    states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    return [
        tick
        for state in states
        for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=10000)
    ]


def push_webhooks(cluster: RunningCluster, count: int = NEW_APPLICATIONS) -> list[str]:
    """`count` new applications, pushed by the sandbox to the receivers (as its routing says),
    then all of them once more, duplicated and reordered; their event ids."""
    events = list(cluster.admin("POST", "/_sandbox/applications", {"count": count})["events"])
    again = {"event_ids": events, "duplicate": True, "reorder": True}
    cluster.admin("POST", "/_sandbox/webhooks/deliver", again)
    return events


def check_counts(
    cluster: RunningCluster, instance: dg.DagsterInstance, ignore: frozenset[str] = frozenset()
) -> tuple[list[str], DriveReport]:
    """The demo's count check on the cluster: its problems (none: it passes) and the runs."""
    drive = drive_report(instance, ignore)
    table = per_hirer(open_warehouse(cluster.settings(WarehouseFields)))
    return compare(table, at_the_fakes(cluster), drive.failed), drive


def run_cluster_demo(home: Path, seconds: float = 900.0) -> int:
    started = time.perf_counter()
    cluster = RunningCluster.at(home)
    print(f"cluster at {cluster.state.home}: UI {cluster.state.ui_url}")
    with (
        cluster.s3_credentials(),
        cluster.instance() as instance,
        CommandProgress() as progress,
    ):
        progress.status("waiting for the sensor to settle the sandbox's world")
        wait_settled(cluster, instance, seconds, progress.status)
        push_webhooks(cluster)
        progress.status(f"{NEW_APPLICATIONS} applications pushed as webhooks: settling")
        wait_settled(cluster, instance, seconds, progress.status)
        problems, drive = check_counts(cluster, instance)
    warehouse = open_warehouse(cluster.settings(WarehouseFields))
    table, reasons = per_hirer(warehouse), rejections(warehouse)
    print(
        f"\nwebhooks: {NEW_APPLICATIONS} more applications pushed to both receivers, then once"
        " more duplicated and reordered"
    )
    print_summary(table, reasons, drive, time.perf_counter() - started)
    for problem in problems:
        print(f"MISMATCH: {problem}")
    print(f"\ndemo {'FAILED' if problems else 'ok'} in {time.perf_counter() - started:.1f} s")
    return 1 if problems else 0
