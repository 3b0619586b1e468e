"""Runs seek-sync starts itself (the driver's ticks under `sync` and `sync --loop`, the CLI's
purge and export), created as the webserver or daemon would create them: the job loaded from the
code location (`seek_sync.definitions`, the location `workspace.yaml` and `[tool.dg]` name) with
its code origin and the location's job origin. So the UI lists each run under its job (a job's
Runs tab filters by the location's label, which only the job origin gives a run), and re-executes
it from the same job, not from a copy made in the process.

Attribution is in tags: `dagster/sensor_name` when a run was requested by the sensor's evaluation
(the sensor's own Runs tab lists it), and `seek_sync/trigger` saying what evaluated it. Each
evaluation the driver makes is recorded as a tick of the sensor (`record_tick`), so the Automation
page shows what `sync` and `sync --loop` did as it shows the daemon's ticks.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository
from dagster._core.definitions.selector import InstigatorSelector
from dagster._core.execution.api import execute_run
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteInstigatorOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.scheduler.instigation import InstigatorType, TickData, TickStatus
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

MODULE, ATTRIBUTE = "seek_sync.definitions", "defs"
LOCATION = "seek_sync.definitions"  # workspace.yaml location_name, [tool.dg] code_location_name
REPOSITORY = "__repository__"  # the name Dagster gives a Definitions' repository
LOCATION_LABEL = f"{REPOSITORY}@{LOCATION}"  # the `.dagster/repository` tag the UI filters by
TRIGGER_TAG = "seek_sync/trigger"


def _working_directory() -> str:
    return os.getcwd()


def code_location_job(job_name: str) -> ReconstructableJob:
    """The job as the code location serves it (resources bound), reconstructable by name."""
    return _repository(_working_directory()).get_reconstructable_job(job_name)


@functools.cache
def _repository(working_directory: str) -> ReconstructableRepository:
    """One per process (its definition is loaded once, as a code server loads it)."""
    return ReconstructableRepository.for_module(MODULE, ATTRIBUTE, working_directory)


def job_origin(job_name: str) -> RemoteJobOrigin:
    """The job's origin in the `seek_sync.definitions` code location, as `dagster dev` loads it."""
    target = LoadableTargetOrigin(
        executable_path=sys.executable,
        module_name=MODULE,
        working_directory=_working_directory(),
    )
    location = ManagedGrpcPythonEnvCodeLocationOrigin(target, LOCATION)
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY), job_name)


def execute(
    instance: dg.DagsterInstance,
    job_name: str,
    *,
    run_config: Mapping[str, Any],
    tags: Mapping[str, str],
    run_id: str,
) -> dg.JobExecutionResult:
    """Create the run with the job's code and location origins, and execute it in this process
    (its executor: the jobs seek-sync starts this way run in process). Never raises for a failed
    step: `.success` says."""
    recon = code_location_job(job_name)
    run = _create(instance, recon, job_name, run_config=run_config, tags=tags, run_id=run_id)
    return execute_run(recon, run, instance, raise_on_error=False)


def launch(
    instance: dg.DagsterInstance,
    job_name: str,
    *,
    run_config: Mapping[str, Any],
    tags: Mapping[str, str],
    run_id: str,
) -> dg.DagsterRun:
    """Create the run as `execute` does and hand it to the instance's run launcher (with the
    Celery launcher, a worker executes it); returns at once, the run STARTING. The launchers
    seek-sync uses read no workspace, so none is given."""
    recon = code_location_job(job_name)
    run = _create(instance, recon, job_name, run_config=run_config, tags=tags, run_id=run_id)
    return instance.launch_run(run.run_id, workspace=None)  # type: ignore[arg-type]


def _create(
    instance: dg.DagsterInstance,
    recon: ReconstructableJob,
    job_name: str,
    *,
    run_config: Mapping[str, Any],
    tags: Mapping[str, str],
    run_id: str,
) -> dg.DagsterRun:
    return instance.create_run_for_job(
        job_def=recon.get_definition(),
        run_config=run_config,
        run_id=run_id,
        tags=tags,
        job_code_origin=recon.get_python_origin(),
        remote_job_origin=job_origin(job_name),
    )


def record_tick(
    instance: dg.DagsterInstance,
    sensor_name: str,
    *,
    started: float,
    skip_reason: str | None,
    run_ids: list[str],
    run_keys: list[str],
    cursor: str | None,
) -> None:
    """One evaluation of the sensor outside the daemon as a tick of that sensor in the code
    location (found by the location's selector, as the UI looks ticks up): skipped with its
    reason, or a success naming the runs it started."""
    repository = job_origin("").repository_origin
    status = TickStatus.SKIPPED if skip_reason else TickStatus.SUCCESS
    instance.create_tick(
        TickData(
            instigator_origin_id=RemoteInstigatorOrigin(
                repository_origin=repository, instigator_name=sensor_name
            ).get_id(),
            instigator_name=sensor_name,
            instigator_type=InstigatorType.SENSOR,
            status=status,
            timestamp=started,
            end_timestamp=time.time(),
            run_ids=run_ids,
            run_keys=run_keys,
            skip_reason=skip_reason,
            cursor=cursor,
            selector_id=InstigatorSelector(
                location_name=LOCATION, repository_name=REPOSITORY, name=sensor_name
            ).get_id(),
        )
    )
