"""`seek-sync bench --trickle R --duration S --hirers H`: how long an application takes to the ATS.

For each path (`trickle_paths`: `loop`, `daemon`, `cluster`, `floor`), on a sandbox process of its
own (a world of H hirers and no applications) with its receiver and an empty home (the `cluster`
path: `seek-sync cluster up`'s deployment on that world, against the machine's PostgreSQL,
RabbitMQ and Redis, torn down after):

1. the path starts and settles the world's history (every hirer's relationship event);
2. the sandbox trickles R new applications a second over the related hirers for S seconds, each
   delivered at once as a signed webhook (`/_sandbox/trickle`), while the path's process trees
   are sampled (psutil: CPU seconds, peak resident set);
3. once the trickle ended and the path settled (nothing due, waiting for a callback or journaled,
   the fakes idle) or `settle_timeout` passed, and the last run's process is gone, the path's
   idle processes are measured over a quiet `idle_window`;
4. the path stops, and each application is timed from the receiver's 2xx to its files at the
   fakes and its uploads confirmed in the store (`latency`).

Figures go in docs/performance.md, never in asserts.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg

from seek_sync.backend import open_warehouse
from seek_sync.bench.isolation import own_state
from seek_sync.bench.latency import Upload, first_held, latencies
from seek_sync.bench.run import settling
from seek_sync.bench.tree import TreeMeter
from seek_sync.bench.trickle_paths import DEFAULT_PATHS, PATHS, RunningPath
from seek_sync.cluster.up import World
from seek_sync.process_stack import ProcessStack, process_stack
from seek_sync.progress import CommandProgress
from seek_sync.settings import HomeFields, WarehouseFields, load
from seek_sync.store.warehouse import records_of

S = TypeVar("S", bound=HomeFields)
SAMPLE_SECONDS = 0.5

UPLOADS_SQL = "SELECT attachment_id, state, updated_at FROM ats_uploads"


def stack_settings(stack: ProcessStack, model: type[S]) -> S:
    """Settings of `model` as the stack's processes see them (their env, not this process's)."""
    fields = {
        name.removeprefix("SEEK_SYNC_").lower(): value
        for name, value in stack.env.items()
        if name.startswith("SEEK_SYNC_")
        and name.removeprefix("SEEK_SYNC_").lower() in model.model_fields
    }
    return load(model, **fields)


def store_uploads(stack: ProcessStack) -> dict[str, Upload]:
    """Every upload in the stack's warehouse (read once its path stopped: DuckDB has one writer)."""
    warehouse = open_warehouse(stack_settings(stack, WarehouseFields))
    rows = records_of(warehouse.query(UPLOADS_SQL))
    return {r["attachment_id"]: Upload(r["state"], _epoch(r["updated_at"])) for r in rows}


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value.timestamp())  # a pandas Timestamp


def fake_files(stack: ProcessStack) -> list[dict[str, Any]]:
    """The files the ATS fakes hold for clients (not the sandbox store's or Kombo's seeds)."""
    ledger = stack.ledger()
    files = [f for f in ledger["onderwijsregio"]["files"] if not f["sandbox"]]
    return files + [f for f in ledger["kombo"]["files"] if not f["seeded"]]


class Watch:
    """Waits on a path, sampling its trees and failing at once if one of its roots exits."""

    def __init__(self, stack: ProcessStack, path: RunningPath, progress: CommandProgress) -> None:
        self.stack, self.path, self.progress = stack, path, progress
        self.meter = TreeMeter(path.pids)

    def tick(self, text: str) -> None:
        if (exited := self.path.exited()) is not None:
            raise RuntimeError(exited)
        self.meter.sample()
        self.progress.status(f"{self.path.name}: {text}")
        time.sleep(SAMPLE_SECONDS)

    def settle(self, events: int, timeout: float, stage: str) -> bool:
        """Until the path settled with at least `events` in its inbox; False on timeout."""
        started = time.monotonic()
        while not (state := settling(self.stack, 0, events)).idle:
            waited = time.monotonic() - started
            if waited > timeout:
                return False
            self.tick(f"{stage}: {state.text()} · {waited:.0f} s")
        return True

    def quiet(self, timeout: float = 60.0) -> None:
        """Until no Dagster run is under way and the path's trees stopped shrinking (a finished
        run's process gone), so the idle window holds only what stays up."""
        from seek_sync.driver import UNDER_WAY

        deadline = time.monotonic() + timeout
        with self.stack.instance() as instance:
            under_way = dg.RunsFilter(statuses=UNDER_WAY)
            while instance.get_runs_count(under_way) and time.monotonic() < deadline:
                self.tick("waiting for the last run to end")
        previous = None
        while (count := len(self.meter.processes())) != previous and time.monotonic() < deadline:
            previous = count
            self.tick("waiting for the last run's process to exit")

    def trickle(self, rate: float, duration: float) -> dict[str, Any]:
        """Start the sandbox's trickle to the related hirers; its report once it ended."""
        ask = {
            "rate": rate,
            "duration": duration,
            "hirers": sorted(self.stack.targets),
            "url": self.stack.receiver_url + "/webhooks/seek",
        }
        self.stack.admin("POST", "/_sandbox/trickle", ask)
        while not (report := self.stack.admin("GET", "/_sandbox/trickle"))["finished"]:
            self.tick(f"trickle: {report['accepted']} of {report['planned']} webhooks accepted")
        return report  # type: ignore[no-any-return]


def idle_cpu_percent(pids: Sequence[int], seconds: float) -> float:
    """CPU of these process trees over `seconds` of nothing to do, in % of one core."""
    meter = TreeMeter(pids)
    before, started = meter.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    return 100 * (meter.cpu_seconds() - before) / (time.monotonic() - started)


def measure_path(
    name: str,
    home: Path,
    world: World,
    rate: float,
    duration: float,
    *,
    interval: float | None,
    idle_window: float,
    settle_timeout: float,
    progress: CommandProgress,
) -> dict[str, Any]:
    progress.step(f"{name}: starting its sandbox and receiver")
    with path_stack(name, home, world, progress) as stack:
        history = int(stack.admin("GET", "/_sandbox/summary")["events"])
        path = PATHS[name](stack, home, interval)
        try:
            watch = Watch(stack, path, progress)
            progress.step(f"{name}: settling the world's history")
            if not watch.settle(history, settle_timeout, "history"):
                raise RuntimeError(f"{name}: the world's history did not settle")
            watch.quiet()
            watch.meter.peak_rss_mb = 0.0  # the trickle's peak, not the history's
            progress.step(f"{name}: trickling {rate:g}/s for {duration:g} s")
            cpu_before, started = watch.meter.cpu_seconds(), time.monotonic()
            report = watch.trickle(rate, duration)
            trickled = time.monotonic()
            progress.step(f"{name}: settling")
            settled = watch.settle(history + report["created"], settle_timeout, "settling")
            cpu = watch.meter.cpu_seconds() - cpu_before
            seconds, tail = time.monotonic() - started, time.monotonic() - trickled
            watch.quiet()
            progress.step(f"{name}: {idle_window:g} s idle")
            idle = idle_cpu_percent(path.idle_pids, idle_window)
        finally:
            path.stop()
        report = stack.admin("GET", "/_sandbox/trickle?digests=1")
        held, uploads = first_held(fake_files(stack)), store_uploads(stack)
        timed = latencies(report["applications"], held, uploads)
    created = max(1, report["created"])
    return timed.as_json() | {
        "cpu_s_per_application": round(cpu / created, 3),
        "peak_rss_mb": round(watch.meter.peak_rss_mb, 1),
        "idle_cpu_percent": round(idle, 2),
        "applications": report["created"],
        "settled": settled,
        "seconds": round(seconds, 1),
        "settle_tail_s": round(tail, 1),  # from the trickle's end until settled
    }


@contextmanager
def path_stack(
    name: str, home: Path, world: World, progress: CommandProgress
) -> Iterator[ProcessStack]:
    """The path's sandbox and receiver (the cluster's own for `cluster`), from empty state."""
    if name == "cluster":
        from seek_sync.bench.cluster import cluster_stack

        with cluster_stack(home, world, progress) as stack:
            yield stack
        return
    options = world.world_options()
    with own_state(name) as isolated, process_stack(home, *options, extra_env=isolated) as stack:
        yield stack


def run_trickle(
    rate: float,
    duration: float,
    hirers: int,
    *,
    paths: Sequence[str] = DEFAULT_PATHS,
    seed: int = 7,
    interval: float | None = None,
    idle_window: float = 60.0,
    settle_timeout: float = 600.0,
    progress: CommandProgress | None = None,
) -> dict[str, Any]:
    """Each path in turn on the same trickle; one JSON-able object of figures."""
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        known = ", ".join(PATHS)
        raise ValueError(f"unknown path(s) {', '.join(unknown)}; known: {known}")
    progress = progress or CommandProgress(mode="plain")
    world = World(applications=0, hirers=hirers, seed=seed, edge_cases=False)
    out: dict[str, Any] = {
        "rate": rate,
        "duration": duration,
        "hirers": hirers,
        "applications": max(1, round(rate * duration)),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="seek-sync-trickle-") as tmp:
        for name in paths:
            out[name] = measure_path(
                name,
                Path(tmp) / name,
                world,
                rate,
                duration,
                interval=interval,
                idle_window=idle_window,
                settle_timeout=settle_timeout,
                progress=progress,
            )
            progress.line(f"{name}: {out[name]}", err=True)
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out
