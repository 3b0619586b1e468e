"""The in-process driver: what the Dagster daemon does for our sensor, without the daemon.

On a persistent `DAGSTER_HOME` instance, one `tick()` evaluates `seek_applications`, adds the hirer
partitions it asks for, skips run keys that already ran, executes the requested runs in process and
then stores the sensor cursor (in the instance's key-value store). Runs go first and the cursor
after, so a crash in between repeats a tick's run keys (skipped) and never loses one. Shared by
`make demo`, `seek-sync sync` (one tick, for cron) and the end-to-end tests.
"""

from dataclasses import dataclass, field

import dagster as dg

from seek_sync.partitions import hirer_partitions

CURSOR_KEY = "seek_sync/driver/seek_applications"
RUN_KEY_TAG = "dagster/run_key"


@dataclass
class TickOutcome:
    skipped_reason: str | None = None
    new_hirers: list[str] = field(default_factory=list)
    runs_succeeded: list[str] = field(default_factory=list)
    runs_failed: list[str] = field(default_factory=list)
    runs_already_done: list[str] = field(default_factory=list)

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
    ) -> None:
        if defs is None:
            from seek_sync.definitions import defs as loaded

            defs = loaded
        self.instance = instance
        self.defs = defs
        self.sensor = defs.resolve_sensor_def("seek_applications")
        self.loggers = {"console": {"config": {"log_level": log_level}}}

    def cursor(self) -> str | None:
        return self.instance.run_storage.get_cursor_values({CURSOR_KEY}).get(CURSOR_KEY)

    def _already_ran(self, run_key: str) -> bool:
        runs = self.instance.get_runs(dg.RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1)
        return bool(runs)

    def tick(self) -> TickOutcome:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor(),
            sensor_name=self.sensor.name,
            definitions=self.defs,
            resources=dict(self.defs.resources or {}),
        )
        data = self.sensor(context)
        if isinstance(data, dg.SkipReason):
            return TickOutcome(skipped_reason=data.skip_message)
        outcome = TickOutcome()
        for request in data.dynamic_partitions_requests or []:
            if isinstance(request, dg.AddDynamicPartitionsRequest):
                keys = list(request.partition_keys)
                self.instance.add_dynamic_partitions(request.partitions_def_name, keys)
                outcome.new_hirers.extend(keys)
        for request in data.run_requests or []:
            run_key = request.run_key or ""
            if run_key and self._already_ran(run_key):
                outcome.runs_already_done.append(run_key)
                continue
            job = self.defs.resolve_job_def(request.job_name or "hirer_sync")
            result = job.execute_in_process(
                run_config={**(request.run_config or {}), "loggers": self.loggers},
                instance=self.instance,
                partition_key=request.partition_key,
                tags={**request.tags, RUN_KEY_TAG: run_key},
                raise_on_error=False,
            )
            (outcome.runs_succeeded if result.success else outcome.runs_failed).append(run_key)
        if data.cursor is not None:
            self.instance.run_storage.set_cursor_values({CURSOR_KEY: data.cursor})
        return outcome

    def hirers(self) -> list[str]:
        return list(self.instance.get_dynamic_partitions(hirer_partitions.name))
