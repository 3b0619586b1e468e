"""The in-process driver: what the Dagster daemon does for our sensor, without the daemon.

One `tick()` evaluates `seek_applications` on a persistent `DAGSTER_HOME` instance (which buries
dead runs, polls SEEK, and reserves the due hirers for batched runs), adds the hirer partitions it
asks for, and executes the requested runs in this process, then stores the sensor cursor. Before a
run starts, this process records itself as the run's owner, so if it is killed mid-run the next
tick (here, or the daemon's sensor) marks that run failed and frees its pool slots, and its
hirers, still owed in the ledger, are simply handed out again. Shared by `make demo`,
`seek-sync sync` (one tick, for cron; `--loop` to keep the process and pay start-up once), the
benchmark and the end-to-end tests.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from seek_sync.jobs import hirer_batch
from seek_sync.partitions import HIRERS_TAG, hirer_partitions
from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.leases import leases_for
from seek_sync.runstate.processes import Holder
from seek_sync.settings import Settings, load_settings

CURSOR_KEY = "seek_sync/driver/seek_applications"
RUN_KEY_TAG = "dagster/run_key"


@contextmanager
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    """The `$DAGSTER_HOME` instance. Its storage is created under a file lock: two `seek-sync
    sync` started at once on a new home would otherwise both create the same SQLite tables."""
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".seek-sync-instance.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = dg.DagsterInstance.get()
        instance.get_runs_count()  # storage created and migrated while we hold the lock
    with instance:
        yield instance


@dataclass
class TickOutcome:
    skipped_reason: str | None = None
    new_hirers: list[str] = field(default_factory=list)
    hirers: int = 0  # hirers handed to this tick's runs
    runs_succeeded: list[str] = field(default_factory=list)
    runs_failed: list[str] = field(default_factory=list)
    runs_already_done: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ran(self) -> int:
        return len(self.runs_succeeded) + len(self.runs_failed)


class Driver:
    """Evaluate the sensor and execute its runs in this process, on `instance`."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        defs: dg.Definitions | None = None,
        *,
        log_level: str = "INFO",
        settings: Settings | None = None,
    ) -> None:
        if defs is None:
            from seek_sync.definitions import defs as loaded

            defs = loaded
        self.instance = instance
        self.defs = defs
        self.sensor = defs.resolve_sensor_def("seek_applications")
        self.loggers = {"console": {"config": {"log_level": log_level}}}
        self.settings = settings or load_settings()
        self.leases = leases_for(self.settings, Inbox(self.settings.inbox_path))

    def cursor(self) -> str | None:
        return self.instance.run_storage.get_cursor_values({CURSOR_KEY}).get(CURSOR_KEY)

    def _succeeded(self, run_key: str) -> bool:
        runs = self.instance.get_runs(
            dg.RunsFilter(tags={RUN_KEY_TAG: run_key}, statuses=[dg.DagsterRunStatus.SUCCESS]),
            limit=1,
        )
        return bool(runs)

    def _execute(self, request: dg.RunRequest) -> bool:
        run_id, leases = str(uuid.uuid4()), self.leases
        leases.own_run(run_id, Holder.me())  # before the run exists: a kill is always seen
        try:
            job = self.defs.resolve_job_def(request.job_name or hirer_batch.name)
            result = job.execute_in_process(
                run_config={**(request.run_config or {}), "loggers": self.loggers},
                instance=self.instance,
                partition_key=request.partition_key,
                run_id=run_id,
                tags={**request.tags, RUN_KEY_TAG: request.run_key or ""},
                raise_on_error=False,
            )
        finally:
            leases.forget_run(run_id)
        return result.success

    def tick(self) -> TickOutcome:
        started = time.perf_counter()
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor(),
            sensor_name=self.sensor.name,
            definitions=self.defs,
            resources=dict(self.defs.resources or {}),
        )
        data = self.sensor(context)
        if isinstance(data, dg.SkipReason):
            return TickOutcome(skipped_reason=data.skip_message, seconds=_since(started))
        outcome = TickOutcome()
        for add in data.dynamic_partitions_requests or []:
            if isinstance(add, dg.AddDynamicPartitionsRequest):
                keys = list(add.partition_keys)
                self.instance.add_dynamic_partitions(add.partitions_def_name, keys)
                outcome.new_hirers.extend(keys)
        for request in data.run_requests or []:
            run_key = request.run_key or ""
            if request.job_name != hirer_batch.name and self._succeeded(run_key):
                outcome.runs_already_done.append(run_key)
                continue
            outcome.hirers += int(request.tags.get(HIRERS_TAG, 0))
            ok = self._execute(request)
            (outcome.runs_succeeded if ok else outcome.runs_failed).append(run_key)
        if data.cursor is not None:
            self.instance.run_storage.set_cursor_values({CURSOR_KEY: data.cursor})
        outcome.seconds = _since(started)
        return outcome

    def loop(
        self,
        interval_seconds: float,
        *,
        on_tick: Callable[[TickOutcome], None] | None = None,
        until: Callable[[TickOutcome], bool] | None = None,
    ) -> None:
        """Tick until SIGTERM or SIGINT (or `until` says so); a tick that ran something is
        followed at once, an idle one after `interval_seconds`. A signal lets the run in
        progress finish: stopping never leaves a run half-done by choice."""
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            while not stop.is_set():
                outcome = self.tick()
                if on_tick is not None:
                    on_tick(outcome)
                if until is not None and until(outcome):
                    return
                if not outcome.ran:
                    stop.wait(interval_seconds)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def hirers(self) -> list[str]:
        return list(self.instance.get_dynamic_partitions(hirer_partitions.name))


def _since(started: float) -> float:
    return time.perf_counter() - started
