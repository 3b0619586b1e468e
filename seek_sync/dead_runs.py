"""Dead runs buried: marked failed, their pool slots freed, their hirers given back.

Dagster's run monitoring and run retries need the daemon and a launched run; runs executed in
process (`seek-sync sync`) get neither, and marking a run failed frees no pool slot. So every
tick (the driver's and the daemon's sensor alike) looks at the in-progress runs whose executing
process recorded itself in `run_owners`: when that process is gone the run is reported failed,
its concurrency slots are freed and its leases dropped, with the reservation its tick made
under its run key (a run that died before its step claimed its hirers would otherwise keep them
reserved until the reservation lapses: a run on a Celery worker killed early, found by
tests/cluster). Leases of runs that finished are dropped too. Run retries stay off: the tick is
the one retry mechanism (the hirers stay owed).
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from seek_sync.runstate.leases import Leases

RUN_KEY_TAG = "dagster/run_key"
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
FINISHED = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
}


def run_ended(instance: dg.DagsterInstance) -> Callable[[str], bool]:
    """Whether the run with this id has finished (a lease owner that is no run is not ended)."""

    def ended(run_id: str) -> bool:
        run = instance.get_run_by_id(run_id)
        return run is not None and run.status in FINISHED

    return ended


def bury_dead_runs(instance: dg.DagsterInstance, leases: Leases) -> list[str]:
    """Fail every in-progress run whose owner process is dead; returns their run ids."""
    buried = []
    for run in instance.get_runs(dg.RunsFilter(statuses=IN_PROGRESS)):
        if leases.run_owner_alive(run.run_id) is not False:
            continue  # alive, or not ours to judge (no owner recorded)
        instance.report_run_failed(
            run, "seek-sync: the process executing this run is gone; its hirers stay owed"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        forget(leases, run)
        buried.append(run.run_id)
    for run_id in leases.owners():
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status in FINISHED:
            leases.forget_run(run_id)
    return buried


def forget(leases: Leases, run: dg.DagsterRun) -> None:
    """The run's owner row and leases gone, and any reservation still under its run key."""
    leases.forget_run(run.run_id)
    run_key = run.tags.get(RUN_KEY_TAG)
    if run_key:
        leases.release(run_key)
