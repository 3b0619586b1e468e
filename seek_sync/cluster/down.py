"""`seek-sync cluster down`: exactly what `cluster up` started and made, gone.

Each recorded process group gets SIGTERM, then SIGKILL after a grace period (only groups whose
leader is still the recorded process, or members that started after it: never a reused pid).
Then the Celery results of the cluster's runs are removed from Redis (their task ids read from
the run tags first), the database is dropped, the queue and its exchange are deleted, and the
state file goes (the logs stay under the home). What the cluster adopted (`existing.py`: a
database, a bucket, a sandbox that were there before it) is left as it was: only the cluster's
Celery results are removed from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from seek_sync.cluster import services
from seek_sync.cluster.config import ENV_FILE, STATE_FILE, ClusterServices, ClusterState
from seek_sync.cluster.processes import alive, stop
from seek_sync.dagster_instance import SCHEMA_SUFFIX

DAGSTER_SCHEMA = "seek_sync" + SCHEMA_SUFFIX  # the cluster never changes SEEK_SYNC_DATABASE_SCHEMA


@dataclass
class TornDown:
    stopped: list[str] = field(default_factory=list)
    killed: list[str] = field(default_factory=list)  # needed SIGKILL after the grace period
    results_removed: int = 0
    problems: list[str] = field(default_factory=list)


def tear_down(
    state: ClusterState,
    cluster_services: ClusterServices,
    grace: float = 20.0,
    say: Callable[[str], None] = lambda _: None,
) -> TornDown:
    """Everything of `state` stopped and removed; what could not be is in `problems`."""
    done = TornDown(stopped=sorted(alive(state.processes)))
    say(f"stopping {len(done.stopped)} process group(s)")
    done.killed = stop(state.processes, grace)
    left = alive(state.processes)
    if left:
        done.problems.append(f"still running: {left}")
    steps: list[tuple[str, Callable[[], None]]] = [
        ("Redis results", lambda: _forget(state, cluster_services, done)),
        ("queue", lambda: services.delete_queue(cluster_services, state.queue)),
    ]
    if "database" not in state.adopted:
        steps.insert(
            1, ("database", lambda: services.drop_database(cluster_services, state.database))
        )
    for what, step in steps:
        try:
            step()
        except Exception as error:
            done.problems.append(f"{what}: {type(error).__name__}: {error}")
    if not done.problems:
        (state.home / STATE_FILE).unlink(missing_ok=True)
        (state.home / ENV_FILE).unlink(missing_ok=True)
    return done


def _forget(state: ClusterState, cluster_services: ClusterServices, done: TornDown) -> None:
    tasks = services.task_ids(cluster_services, state.database, DAGSTER_SCHEMA)
    done.results_removed = services.forget_results(cluster_services, tasks)
