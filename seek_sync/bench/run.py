"""`seek-sync bench`: one workload through the library path and the Dagster path, compared.

Each path gets its own sandbox process (same seed, so the same world), its own receiver process
and an empty home, and runs as its own process: the library path (`seek_sync.bench.library`) and
the Dagster path as deployed (`seek-sync sync --loop`). A path is timed from its start until it
is settled: no hirer due, nothing waiting for a callback, nothing journaled, the fakes idle.
With `busy`, both first settle a world where every hirer has history, then the timed phase adds
the applications to `busy` hirers only: a sparse tick among many idle partitions. Both must end
with the same counts at the fakes. Figures come from this one run: the library path is the floor.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seek_sync.backend import open_inbox
from seek_sync.bench.isolation import own_state
from seek_sync.bench.memory import peak_rss_mb, rss_mb
from seek_sync.child_signals import default_stop_signals, stop_child
from seek_sync.pipeline.hirers import removed_hirers
from seek_sync.process_stack import ProcessStack, process_stack
from seek_sync.progress import MODE_ENV, CommandProgress
from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.journal import Journal
from seek_sync.runstate.ledger import Ledger
from seek_sync.settings import HomeFields, load

IDLE_LINE = "runs: 0 ok, 0 failed"


@dataclass
class PathResult:
    seconds: float = 0.0
    applications: int = 0
    peak_rss_mb: float = 0.0
    sandbox_peak_rss_mb: float = 0.0
    sandbox_start_rss_mb: float = 0.0  # once its world is built, before the path starts
    sandbox_received_bytes: int = 0  # file bytes its ATS fakes took in
    counts: dict[str, int] = field(default_factory=dict)
    runs: int | None = None
    idle_tick_s: float | None = None
    cron_tick_s: float | None = None

    def as_json(self) -> dict[str, Any]:
        out = {
            "seconds": round(self.seconds, 2),
            "applications_per_s": round(self.applications / self.seconds, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "counts": self.counts,
        }
        if self.runs is not None:
            out["runs"] = self.runs
        return out


@dataclass
class Settling:
    """How far a path is from settled: its inbox's ledger and journal, then the fakes."""

    expected: int  # hirers with applications
    hirers: int = 0  # hirers a run has finished at least once
    settled_hirers: int = 0  # of those, neither due nor waiting for a callback
    due: int = 0
    waiting: int = 0  # hirers with uploads waiting for a callback
    journaled: int = 0  # rows not merged yet
    unpolled: int = 0  # events SEEK published that the inbox has not recorded yet
    idle: bool = False  # settled: all else done and the fakes have nothing in flight

    def text(self) -> str:
        if self.unpolled:
            return f"{self.unpolled} new events not polled yet"
        if self.hirers >= self.expected and not (self.due or self.waiting or self.journaled):
            return "the fakes finishing"
        return f"{self.due} due · {self.waiting} waiting for callbacks · {self.journaled} journaled"


def settling(stack: ProcessStack, expected_hirers: int, events_at_least: int = 0) -> Settling:
    """Where the path stands; idle only once the inbox holds `events_at_least` events (the
    timed phase's new applications polled), no hirer is due or waiting, and the fakes idle."""
    inbox = _inbox(stack)
    try:
        ledger = Ledger(inbox)
        rows = ledger.rows()
        due = {d.hirer_id for d in ledger.due(exclude=removed_hirers(inbox))}
        waiting = {h for h, w in rows.items() if int(w.owed.get("waiting", 0) or 0)}
        state = Settling(
            expected_hirers,
            hirers=len(rows),
            settled_hirers=len(set(rows) - due - waiting),
            due=len(due),
            waiting=len(waiting),
            journaled=Journal(inbox).pending(),
            unpolled=max(0, events_at_least - inbox.max_seq()),
        )
    finally:
        inbox.close()
    if len(rows) >= expected_hirers and not (due or waiting or state.journaled or state.unpolled):
        state.idle = stack.idle()
    return state


def fake_counts(ledger: dict[str, Any]) -> dict[str, int]:
    """What the ATS fakes hold for clients, by their ledger (`/_sandbox/ats/ledger`)."""
    return {
        "onderwijsregio_candidates": sum(
            not c["sandbox"] for c in ledger["onderwijsregio"]["candidates"]
        ),
        "onderwijsregio_files": sum(not f["sandbox"] for f in ledger["onderwijsregio"]["files"]),
        "kombo_applications": sum(not a["seeded"] for a in ledger["kombo"]["applications"]),
        "kombo_files": sum(not f["seeded"] for f in ledger["kombo"]["files"]),
    }


def _inbox(stack: ProcessStack) -> Inbox:
    """The inbox of the stack's processes (their settings, not this process's)."""
    fields = {
        name.removeprefix("SEEK_SYNC_").lower(): value
        for name, value in stack.env.items()
        if name.startswith("SEEK_SYNC_")
        and name.removeprefix("SEEK_SYNC_").lower() in HomeFields.model_fields
    }
    return open_inbox(load(HomeFields, **fields))


def _inbox_events(stack: ProcessStack) -> int:
    inbox = _inbox(stack)
    try:
        return inbox.max_seq()
    finally:
        inbox.close()


def _hirers_with_applications(stack: ProcessStack) -> list[str]:
    summary = stack.admin("GET", "/_sandbox/summary")
    return [h["id"] for h in summary["hirers"] if h["applications"] and h["id"] in stack.targets]


def _wait(
    stack: ProcessStack,
    process: subprocess.Popen[str],
    result: PathResult,
    hirers: int,
    progress: CommandProgress,
    stage: str,
    events_at_least: int = 0,
) -> None:
    sandbox_pid, started = stack.sandbox.pid, time.perf_counter()
    while not (state := settling(stack, hirers, events_at_least)).idle:
        progress.status(
            f"{stage}: {state.text()} · {time.perf_counter() - started:.0f} s",
            (state.settled_hirers, max(hirers, state.hirers)),
        )
        if process.poll() is not None:
            raise RuntimeError(f"the benchmarked process exited with {process.returncode}")
        result.peak_rss_mb = max(result.peak_rss_mb, peak_rss_mb(process.pid))
        result.sandbox_peak_rss_mb = max(result.sandbox_peak_rss_mb, peak_rss_mb(sandbox_pid))
        time.sleep(0.2)
    result.peak_rss_mb = max(result.peak_rss_mb, peak_rss_mb(process.pid))
    result.sandbox_peak_rss_mb = max(result.sandbox_peak_rss_mb, peak_rss_mb(sandbox_pid))


def measure(
    kind: str,
    home: Path,
    world: list[str],
    applications: int,
    busy: int | None,
    interval: float,
    progress: CommandProgress | None = None,
) -> PathResult:
    result, progress = PathResult(), progress or CommandProgress(mode="plain")
    progress.step(f"{kind}: starting its sandbox and receiver")
    with own_state(kind) as isolated, process_stack(home, *world, extra_env=isolated) as stack:
        log = open(home / f"{kind}.out", "w+")  # noqa: SIM115 - read back after the process ends
        if kind == "library":
            command = [sys.executable, "-m", "seek_sync.bench.library", str(interval)]
        else:
            command = [
                sys.executable,
                "-m",
                "seek_sync.cli",
                "sync",
                "--loop",
                "--interval",
                str(interval),
            ]
        known = _hirers_with_applications(stack)
        result.sandbox_start_rss_mb = rss_mb(stack.sandbox.pid)
        progress.step(f"{kind}: running until settled at the fakes")
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            env={**os.environ, **stack.env, MODE_ENV: "plain"},  # its tick lines are parsed
            stdout=log,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=default_stop_signals,
        )
        try:
            _wait(stack, process, result, len(known), progress, f"{kind}: settling")
            result.applications = int(stack.admin("GET", "/_sandbox/summary")["applications"])
            if busy:
                progress.step(f"{kind}: {applications} new applications to {busy} hirer(s)")
                chosen = known[:busy]
                per = [applications // busy + (i < applications % busy) for i in range(busy)]
                events = _inbox_events(stack) + applications  # one event per application
                started = time.perf_counter()
                for hirer_id, count in zip(chosen, per, strict=True):
                    if count:
                        stack.admin(
                            "POST", "/_sandbox/applications", {"count": count, "hirers": [hirer_id]}
                        )
                result.applications = applications
                stage = f"{kind}: timed phase"
                _wait(stack, process, result, len(known), progress, stage, events)
            result.seconds = time.perf_counter() - started
            progress.status(f"{kind}: settled")
            if kind == "dagster":
                progress.step(f"{kind}: a few idle ticks of the loop")
                time.sleep(interval * 3.5)  # a few idle ticks of the long-lived process
        finally:
            stop_child(process, grace=30)
        progress.line(
            f"{kind}: {result.applications} applications settled in {result.seconds:.1f} s",
            err=True,
        )
        result.counts = fake_counts(stack.ledger())
        result.sandbox_received_bytes = stack.admin("GET", "/_sandbox/summary")["received_bytes"]
        progress.line(f"{kind}: at the fakes {result.counts}", err=True)
        if kind == "dagster":
            progress.step(f"{kind}: a one-shot `seek-sync sync` (a cron tick)")
            log.seek(0)
            result.idle_tick_s = _idle_tick(log.read())
            result.cron_tick_s = _cron_tick(stack)
            with stack.instance() as instance:
                result.runs = instance.get_runs_count()
        log.close()
    return result


def _idle_tick(output: str) -> float | None:
    seconds = [
        float(line.rsplit("; ", 2)[-2].removesuffix(" s"))
        for line in output.splitlines()
        if IDLE_LINE in line and "hirers synced: 0" in line
    ]
    return round(statistics.median(seconds), 3) if seconds else None


def _cron_tick(stack: ProcessStack) -> float:
    """A one-shot `seek-sync sync` on the settled home: process start included."""
    started = time.perf_counter()
    stack.seek_sync("sync").communicate(timeout=120)
    return round(time.perf_counter() - started, 2)


def run_bench(
    applications: int,
    hirers: int,
    busy: int | None = None,
    seed: int = 7,
    interval: float = 1.0,
    progress: CommandProgress | None = None,
) -> dict[str, Any]:
    """Both paths on the same world; one JSON-able object of figures."""
    if busy:
        world = ["--applications", str(hirers), "--hirers", str(hirers)]
    else:
        world = ["--applications", str(applications), "--hirers", str(hirers)]
    world += ["--seed", str(seed), "--no-edge-cases"]
    with tempfile.TemporaryDirectory(prefix="seek-sync-bench-") as tmp:
        library, dagster = (
            measure(kind, Path(tmp) / kind, world, applications, busy, interval, progress)
            for kind in ("library", "dagster")
        )
    lib, dag = library.as_json(), dagster.as_json()
    return {
        "applications": applications,
        "hirers": hirers,
        "busy": busy,
        "library": lib,
        "dagster": dag,
        "ratio_dagster_library": round(dag["applications_per_s"] / lib["applications_per_s"], 3),
        "idle_tick_s": dagster.idle_tick_s,
        "cron_tick_s": dagster.cron_tick_s,
        "peak_rss_mb": round(max(library.peak_rss_mb, dagster.peak_rss_mb), 1),
        "sandbox_peak_rss_mb": round(
            max(library.sandbox_peak_rss_mb, dagster.sandbox_peak_rss_mb), 1
        ),
        "counts_identical": library.counts == dagster.counts,
        "sandbox_rss_growth_per_received_byte": max(map(_growth, (library, dagster))),
    }


def _growth(path: PathResult) -> float:
    """How much the sandbox's peak resident set grew over its start, per file byte received."""
    grown = max(0.0, path.sandbox_peak_rss_mb - path.sandbox_start_rss_mb) * 1024 * 1024
    return round(grown / max(1, path.sandbox_received_bytes), 4)


def main_json(result: dict[str, Any]) -> str:
    return json.dumps(result, sort_keys=False)
