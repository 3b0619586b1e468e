"""The Celery app a seek-sync worker runs (`celery -A seek_sync.celery_worker worker`, started by
`seek-sync worker`): the app of the instance's own `CeleryRunLauncher`, so broker, result backend,
queue and task options come from the one instance file that launches the runs.

Built when the module is imported (that is how Celery finds an app), from `$DAGSTER_HOME/
dagster.yaml`, without opening any storage. Its tasks are dagster-celery's: `execute_job` executes
one whole run in the pool process with the job's own (in-process) executor. Before it starts,
the pool process records itself as the run's owner (as `seek-sync sync` does before it executes
a run: if the worker dies at any point after, the next tick buries the run) and the worker's name
(`name@host`) on the run as the tag `seek_sync/worker`; unless the run already started elsewhere
(a message redelivered after a worker died: Dagster ignores it). When the task ends, the owner row
goes, as the driver's does.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from multiprocessing import process
from typing import Any

import dagster as dg
from celery import Celery, signals
from dagster._core.instance.ref import InstanceRef
from dagster._core.launcher import RunLauncher
from dagster._grpc.types import ExecuteRunArgs, ResumeRunArgs
from dagster._serdes import unpack_value
from dagster_celery.config import TASK_EXECUTE_JOB_NAME, TASK_RESUME_JOB_NAME
from dagster_celery.launcher import CeleryRunLauncher
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task

from seek_sync.backend import open_inbox
from seek_sync.celery_cluster import WORKER_TAG
from seek_sync.runstate.leases import Leases, leases_for
from seek_sync.settings import load_settings

NOT_YET_STARTED = (dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING)
OWNED: set[str] = set()  # the runs this process recorded itself as the owner of


def launcher_app() -> Celery:
    """The Celery app of the run launcher that `$DAGSTER_HOME/dagster.yaml` configures; its
    `{env: ...}` values resolved from this process's environment."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError("seek-sync worker: DAGSTER_HOME is not set")
    data = InstanceRef.from_dir(home).run_launcher_data
    launcher = data.rehydrate(RunLauncher) if data is not None else None
    if not isinstance(launcher, CeleryRunLauncher):
        raise RuntimeError(
            "seek-sync worker: the instance file launches no run on Celery"
            " (set SEEK_SYNC_CELERY_BROKER_URL; docs/deploying.md)"
        )
    return launcher.celery


def run_id_of(task_name: str, kwargs: dict[str, Any]) -> str | None:
    """The run a dagster-celery run task executes (None for any other task)."""
    if task_name == TASK_EXECUTE_JOB_NAME and "execute_job_args_packed" in kwargs:
        args = unpack_value(kwargs["execute_job_args_packed"], as_type=ExecuteRunArgs)
        return args.run_id
    if task_name == TASK_RESUME_JOB_NAME and "resume_job_args_packed" in kwargs:
        return unpack_value(kwargs["resume_job_args_packed"], as_type=ResumeRunArgs).run_id
    return None


def pool_memory_off_disk() -> None:
    """Billiard's prefork pool maps its shared memory from files it makes (and unlinks at once)
    in multiprocessing's temp dir, which it first creates as `$TMPDIR/pymp-*` and removes only on
    a clean exit: a SIGKILLed worker left that directory behind. On Linux it is pointed at
    `/dev/shm`, where CPython's own `multiprocessing.heap` puts such files: nothing of the pool's
    is ever on the worker's disk. (multiprocessing keeps the directory in the process's private
    `_config`; setting it is how the directory is chosen, and no clean-up is registered for it.)"""
    config = process.current_process()._config  # type: ignore[attr-defined]
    if sys.platform == "linux" and os.path.isdir("/dev/shm") and "tempdir" not in config:
        config["tempdir"] = "/dev/shm"


def _leases() -> Leases:
    settings = load_settings()
    return leases_for(settings, open_inbox(settings))


def before_run(task: Any, kwargs: dict[str, Any] | None = None, **_: Any) -> None:
    """`task_prerun`: this process the owner of the run it is about to execute, and the worker's
    name on the run."""
    run_id = run_id_of(task.name, kwargs or {})
    if run_id is None:
        return
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        if run is None or run.status not in NOT_YET_STARTED:
            return
        leases = _leases()
        leases.own_run(run_id, leases.me())
        OWNED.add(run_id)
        instance.add_run_tags(run_id, {WORKER_TAG: str(task.request.hostname)})


def after_run(task: Any, kwargs: dict[str, Any] | None = None, **_: Any) -> None:
    """`task_postrun`: the owner row of a run this process executed goes (its leases with it)."""
    run_id = run_id_of(task.name, kwargs or {})
    if run_id is not None and run_id in OWNED:
        OWNED.discard(run_id)
        _leases().forget_run(run_id)


# Loaded once in the worker's main process, before it forks a pool process per run: each run then
# starts with the code location, Dagster's PostgreSQL storage and the Celery tasks imported (only
# imported: no connection is opened before the fork). Without it each run spent about 25 s of a
# shared two-core machine importing them.
pool_memory_off_disk()
import_module("seek_sync.definitions")
import_module("dagster_postgres")
app = launcher_app()
execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)
signals.task_prerun.connect(before_run, weak=False)
signals.task_postrun.connect(after_run, weak=False)
