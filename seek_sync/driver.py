"""The in-process driver: what the Dagster daemon does for our sensor, without the daemon.

One `tick()` evaluates `seek_applications` on a persistent `DAGSTER_HOME` instance (which buries
dead runs, polls SEEK, and reserves the due hirers for batched runs), adds the hirer partitions it
asks for, and executes the requested runs in this process (created with the code location's job
origin, so the UI lists them under their job and the sensor, tagged with what evaluated the
sensor: `seek-sync sync`, `sync --loop` or `demo`), then stores the sensor cursor. Before a
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from seek_sync.backend import open_inbox
from seek_sync.jobs import hirer_batch
from seek_sync.launch import TRIGGER_TAG, execute, launch, record_tick
from seek_sync.partitions import HIRERS_TAG, hirer_partitions
from seek_sync.runstate.leases import leases_for
from seek_sync.runstate.wake import Marks, marks, wait_for_input
from seek_sync.sensors import POLL_SEEK
from seek_sync.settings import Settings, load_settings

CURSOR_KEY = "seek_sync/driver/seek_applications"
RUN_KEY_TAG = "dagster/run_key"
SENSOR_NAME_TAG = "dagster/sensor_name"  # the sensor whose evaluation requested the run
UNDER_WAY = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


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
    runs_launched: list[str] = field(default_factory=list)  # run ids handed to the run launcher
    seconds: float = 0.0

    @property
    def ran(self) -> int:
        return len(self.runs_succeeded) + len(self.runs_failed)


class Driver:
    """Evaluate the sensor and execute its runs in this process, on `instance`."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        *,
        log_level: str = "INFO",
        settings: Settings | None = None,
        trigger: str = "sync",
        launch: bool = False,
    ) -> None:
        from seek_sync.definitions import defs

        self.instance = instance
        self.defs = defs
        self.sensor = defs.resolve_sensor_def("seek_applications")
        self.loggers = {"console": {"config": {"log_level": log_level}}}
        self.settings = settings or load_settings()
        self.inbox = open_inbox(self.settings)
        self.leases = leases_for(self.settings, self.inbox)
        self.trigger = trigger  # what evaluates the sensor: `sync`, `sync --loop`, `demo`
        # Launch the runs through the instance's run launcher (Celery workers) instead of
        # executing them here: the run step records its own process as the owner.
        self.launch = launch

    def cursor(self) -> str | None:
        return self.instance.run_storage.get_cursor_values({CURSOR_KEY}).get(CURSOR_KEY)

    def _succeeded(self, run_key: str) -> bool:
        """A run of this key succeeded (or, when launching, is under way)."""
        statuses = [dg.DagsterRunStatus.SUCCESS, *(UNDER_WAY if self.launch else [])]
        runs = self.instance.get_runs(
            dg.RunsFilter(tags={RUN_KEY_TAG: run_key}, statuses=statuses), limit=1
        )
        return bool(runs)

    def _tags(self, request: dg.RunRequest) -> dict[str, str]:
        return {
            **request.tags,
            RUN_KEY_TAG: request.run_key or "",
            SENSOR_NAME_TAG: self.sensor.name,
            TRIGGER_TAG: f"seek-sync {self.trigger}",
        }

    def _launch(self, request: dg.RunRequest, run_id: str) -> None:
        launch(
            self.instance,
            request.job_name or hirer_batch.name,
            run_config={**(request.run_config or {}), "loggers": self.loggers},
            run_id=run_id,
            tags=self._tags(request),
        )

    def _execute(self, request: dg.RunRequest, run_id: str) -> bool:
        leases = self.leases
        leases.own_run(run_id, leases.me())  # before the run exists: a kill is always seen
        try:
            result = execute(
                self.instance,
                request.job_name or hirer_batch.name,
                run_config={**(request.run_config or {}), "loggers": self.loggers},
                run_id=run_id,
                tags=self._tags(request),
            )
        finally:
            leases.forget_run(run_id)
        return result.success

    def tick(self, poll_seek: bool = True) -> TickOutcome:
        """One evaluation of the sensor and its runs (`poll_seek`: it polls SEEK too)."""
        started, began = time.perf_counter(), time.time()
        # Entered, so the tick's resources are torn down here and now. Left to the garbage
        # collector, their teardown could run whenever a cycle was collected, even while the
        # interpreter shuts down after SIGTERM, where Dagster's import inside its error boundary
        # fails ("sys.meta_path is None": the likely cause of a loop's rare exit 1 on SIGTERM).
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor(),
            sensor_name=self.sensor.name,
            definitions=self.defs,
            resources=dict(self.defs.resources or {}),
        )
        polling = POLL_SEEK.set(poll_seek)
        try:
            with context:
                data = self.sensor(context)
        finally:
            POLL_SEEK.reset(polling)
        if isinstance(data, dg.SkipReason):
            reason = data.skip_message or "skipped"
            self._record(began, reason, [], [], None)
            return TickOutcome(skipped_reason=reason, seconds=_since(started))
        outcome, run_ids, run_keys = TickOutcome(), [], []
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
            run_ids.append(str(uuid.uuid4()))
            run_keys.append(run_key)
            if self.launch:
                self._launch(request, run_ids[-1])
                outcome.runs_launched.append(run_ids[-1])
                continue
            ok = self._execute(request, run_ids[-1])
            (outcome.runs_succeeded if ok else outcome.runs_failed).append(run_key)
        if data.cursor is not None:
            self.instance.run_storage.set_cursor_values({CURSOR_KEY: data.cursor})
        self._record(began, None if run_ids else "no run to start", run_ids, run_keys, data.cursor)
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
        followed at once, an idle one as soon as the inbox moves (a webhook or a callback
        stored: `runstate.wake`, read every quarter second) or after `interval_seconds`. SEEK is
        polled by the ticks at most every `interval_seconds`, however often input wakes the
        loop. A signal lets the run in progress finish: stopping never leaves a run half-done
        by choice."""
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        # Ticks run on a thread of their own: off the main thread Dagster installs no signal
        # handler of its own, so a signal only sets `stop` (it used to fail the run instead,
        # and the loop, never told, went on ticking).
        polled = -float("inf")  # monotonic time of the last tick that polled SEEK
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="seek-sync-tick") as ticks:
                while not stop.is_set():
                    since, now = self._marks(), time.monotonic()
                    poll_seek = now - polled >= interval_seconds
                    outcome = ticks.submit(self.tick, poll_seek).result()
                    polled = now if poll_seek else polled
                    if on_tick is not None:
                        on_tick(outcome)
                    if until is not None and until(outcome):
                        return
                    if not outcome.ran:
                        left = max(0.0, polled + interval_seconds - time.monotonic())
                        if since is None:
                            stop.wait(left)
                        else:
                            wait_for_input(self.inbox, since, left, stop)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _marks(self) -> Marks | None:
        """Where the inbox stands before a tick (None if it cannot be read: then the loop
        sleeps out its interval, and the tick reports what is wrong)."""
        try:
            return marks(self.inbox)
        except Exception:
            return None

    def _record(
        self,
        began: float,
        skip_reason: str | None,
        run_ids: list[str],
        run_keys: list[str],
        cursor: str | None,
    ) -> None:
        """This evaluation as a tick of the sensor (the Automation page lists it)."""
        reason = skip_reason and f"{skip_reason} (seek-sync {self.trigger})"
        record_tick(
            self.instance,
            self.sensor.name,
            started=began,
            skip_reason=reason,
            run_ids=run_ids,
            run_keys=run_keys,
            cursor=cursor,
        )

    def partition_keys(self) -> list[str]:
        """The hirer partitions' keys, in the order added."""
        return list(self.instance.get_dynamic_partitions(hirer_partitions.name))


def _since(started: float) -> float:
    return time.perf_counter() - started
