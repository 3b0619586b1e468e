"""`seek-sync bench --cluster`: the library path against the local cluster, on the same workload.

The library path runs as in `run.py` (its own sandbox process and home). The cluster path is
`seek-sync cluster up`'s deployment (`seek_sync.cluster.up.bring_up`): a sandbox holding the same
world (same seed, no edge cases), moto S3, two receivers, a code server, the webserver, the daemon
and two Celery workers, against the machine's PostgreSQL, RabbitMQ and Redis. Nothing is ticked by
this process: the daemon's sensor polls SEEK and hands the hirers out as runs, which the workers
execute. The path is timed from the daemon's start (its sensor cannot tick earlier; the code
server and the workers already answer) until the cluster has settled (`cluster.view.unsettled`),
then the demo's count check (`cluster.demo.check_counts`) must find every applicant and file at
the fakes exactly once. Each cluster process tree (runs included) is sampled for its resident
set meanwhile. The cluster is torn down (`cluster.down.tear_down`) whatever happens, Ctrl-C too.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seek_sync.bench.run import fake_counts, measure
from seek_sync.bench.tree import TreeMeter
from seek_sync.celery_cluster import WORKER_TAG
from seek_sync.cluster.config import ClusterServices, ClusterState
from seek_sync.cluster.demo import check_counts
from seek_sync.cluster.down import tear_down
from seek_sync.cluster.health import ClusterError
from seek_sync.cluster.processes import leader, log_tail
from seek_sync.cluster.roles import instance_variables
from seek_sync.cluster.services import reachable
from seek_sync.cluster.up import WORKERS, World, bring_up
from seek_sync.cluster.view import RunningCluster, wait_settled
from seek_sync.local_stack import patched_environ
from seek_sync.process_stack import ProcessStack
from seek_sync.progress import CommandProgress
from seek_sync.settings import ENV_PREFIX, load

INTERVAL_ENV = f"{ENV_PREFIX}SENSOR_INTERVAL_SECONDS"
SENSOR_INTERVAL = "5"  # the sensor's shortest: the nearest to the loop's 1 s the bench runs
FAKES = ("sandbox", "s3")  # the outside world's stand-ins, not seek-sync's own processes
UP_SECONDS = 300.0


@dataclass
class ClusterMeter:
    """Each cluster process's tree (a worker's runs included), sampled together."""

    meters: dict[str, TreeMeter]
    peak_rss_mb: float = 0.0  # the largest sum over seek-sync's own processes at one sample

    @classmethod
    def of(cls, state: ClusterState) -> ClusterMeter:
        return cls({r.name: TreeMeter([r.pid]) for r in state.processes})

    def sample(self) -> None:
        now = {name: meter.sample() for name, meter in self.meters.items()}
        own = sum(rss for name, rss in now.items() if name not in FAKES)
        self.peak_rss_mb = max(self.peak_rss_mb, own)

    def processes(self) -> dict[str, dict[str, float]]:
        """Each process's peak resident set (its tree's) and CPU seconds since it started."""
        return {
            name: {"peak_rss_mb": round(m.peak_rss_mb, 1), "cpu_s": round(m.cpu_seconds(), 1)}
            for name, m in self.meters.items()
        }


@dataclass
class ClusterResult:
    seconds: float = 0.0
    applications: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # the count check's: none, exactly once
    runs: int = 0
    ticks: int = 0
    runs_per_worker: dict[str, int] = field(default_factory=dict)
    processes: dict[str, dict[str, float]] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    sensor_interval_s: int = 0
    torn_down: list[str] = field(default_factory=list)  # teardown's problems: none, all gone
    database: str = ""

    def as_json(self) -> dict[str, Any]:
        rate = self.applications / self.seconds
        return {
            "seconds": round(self.seconds, 2),
            "applications_per_s": round(rate, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "counts": self.counts,
            "exactly_once": not self.problems,
            "problems": self.problems,
            "runs": self.runs,
            "sensor_ticks": self.ticks,
            "sensor_interval_s": self.sensor_interval_s,
            "workers": WORKERS,
            "slots_per_worker": 1,
            "applications_per_s_per_worker": round(rate / WORKERS, 2),
            "runs_per_worker": self.runs_per_worker,
            "processes": self.processes,
            "database": self.database,
            "torn_down": not self.torn_down,
            "teardown_problems": self.torn_down,
        }


def _watch(
    cluster: RunningCluster, meter: ClusterMeter, progress: CommandProgress
) -> Callable[[str], None]:
    """What `wait_settled` calls each second: sample, fail at once if a process exited."""

    def on_progress(text: str) -> None:
        for record in cluster.state.processes:
            if leader(record) is None:
                raise ClusterError(f"{record.name} exited:\n{log_tail(record)}")
        meter.sample()
        progress.status(f"cluster: {text}")

    return on_progress


@contextmanager
def local_cluster(
    home: Path, world: World, environ: dict[str, str], progress: CommandProgress
) -> Iterator[tuple[RunningCluster, list[str]]]:
    """`cluster up`'s deployment on `world`, answering; torn down on leaving, whatever happened
    (Ctrl-C too): the cluster and the list that then holds the teardown's problems (none: all
    gone)."""
    services = load(ClusterServices)
    if problem := reachable(services):
        raise ClusterError(problem)
    home.mkdir(parents=True, exist_ok=True)
    state = ClusterState.new(home)
    torn_down: list[str] = []
    progress.step("cluster: starting the local cluster (`cluster up`)")
    try:
        deadline = time.monotonic() + UP_SECONDS
        env = bring_up(state, services, world, environ, 0, deadline, progress.step)
        yield RunningCluster(state, env), torn_down
    finally:
        progress.step("cluster: tearing it down (`cluster down`)")
        torn_down += tear_down(state, services, say=progress.step).problems


@contextmanager
def cluster_stack(home: Path, world: World, progress: CommandProgress) -> Iterator[ProcessStack]:
    """The local cluster read as a `ProcessStack` (the trickle bench's), with the instance's
    variables in this process's environment while it runs; torn down on leaving."""
    with (
        local_cluster(home, world, dict(os.environ), progress) as (cluster, torn_down),
        patched_environ(instance_variables(cluster.env)),
        cluster.s3_credentials(),
    ):
        yield cluster.as_stack()
    if torn_down:
        raise ClusterError(f"cluster down: {'; '.join(torn_down)}")


def measure_cluster(
    home: Path,
    applications: int,
    hirers: int,
    seed: int,
    settle_timeout: float,
    progress: CommandProgress,
) -> ClusterResult:
    environ = dict(os.environ)
    environ.setdefault(INTERVAL_ENV, SENSOR_INTERVAL)
    result = ClusterResult(sensor_interval_s=int(environ[INTERVAL_ENV]))
    world = World(applications, hirers, seed, edge_cases=False)
    with local_cluster(home, world, environ, progress) as (cluster, torn_down):
        state, meter = cluster.state, ClusterMeter.of(cluster.state)
        result.database = state.database
        started = state.process("daemon").started  # epoch seconds, as psutil gives it
        progress.step("cluster: running until settled at the fakes")
        with cluster.s3_credentials(), cluster.instance() as instance:
            wait_settled(cluster, instance, settle_timeout, _watch(cluster, meter, progress))
            result.seconds = time.time() - started
            meter.sample()
            result.applications = int(cluster.admin("GET", "/_sandbox/summary")["applications"])
            result.problems, drive = check_counts(cluster, instance)
            result.runs, result.ticks = drive.runs, drive.ticks
            tags = Counter(r.tags.get(WORKER_TAG, "?") for r in instance.get_runs())
            result.runs_per_worker = dict(sorted(tags.items()))
        result.counts = fake_counts(cluster.admin("GET", "/_sandbox/ats/ledger"))
        result.processes, result.peak_rss_mb = meter.processes(), meter.peak_rss_mb
    result.torn_down = torn_down
    progress.line(
        f"cluster: {result.applications} applications settled in {result.seconds:.1f} s;"
        f" at the fakes {result.counts}",
        err=True,
    )
    return result


def run_cluster_bench(
    applications: int,
    hirers: int,
    seed: int = 7,
    interval: float = 1.0,
    settle_timeout: float = 3600.0,
    progress: CommandProgress | None = None,
) -> dict[str, Any]:
    """The library path, then the local cluster, on the same world; one JSON-able object."""
    progress = progress or CommandProgress(mode="plain")
    world = World(applications, hirers, seed, edge_cases=False).world_options()
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="seek-sync-bench-") as tmp:
        library = measure(
            "library", Path(tmp) / "library", world, applications, None, interval, progress
        )
        cluster = measure_cluster(
            Path(tmp) / "cluster", applications, hirers, seed, settle_timeout, progress
        )
    lib, clu = library.as_json(), cluster.as_json()
    return {
        "applications": applications,
        "hirers": hirers,
        "library": lib,
        "cluster": clu,
        "ratio_cluster_library": round(clu["applications_per_s"] / lib["applications_per_s"], 3),
        "counts_identical": library.counts == cluster.counts,
        "sandbox_peak_rss_mb": round(
            max(library.sandbox_peak_rss_mb, clu["processes"]["sandbox"]["peak_rss_mb"]), 1
        ),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
