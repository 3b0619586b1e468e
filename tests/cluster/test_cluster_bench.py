"""`seek-sync bench --cluster` runs end to end on a tiny workload: the library path, then the local
cluster (`cluster up`'s processes against the machine's PostgreSQL, RabbitMQ and Redis), each
until settled at the fakes; the cluster counted exactly once and torn down after (figures go in
the docs, never here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from seek_sync.cluster.config import ClusterServices
from seek_sync.cluster.services import database_exists
from seek_sync.settings import load
from tests.cluster.celery_helpers import require_services
from tests.cluster.local_cluster_helpers import cluster_environment
from tests.services import ADMIN_URL, require_postgres

BENCH = [sys.executable, "-m", "seek_sync.cli", "bench"]
PROCESSES = {"sandbox", "s3", "receiver-1", "receiver-2", "code-server", "webserver", "daemon"}


def running_with(text: str) -> list[str]:
    """Running processes whose command line or working directory mentions `text`: each as its
    working directory and command line, in one line."""
    found = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        line = f"{process.info['cwd'] or ''} {' '.join(process.info['cmdline'] or [])}"
        if text in line:
            found.append(line)
    return found


def bench(args: list[str], settings: dict[str, str], cwd: Path) -> dict[str, Any]:
    """`seek-sync bench ARGS --json` against the test's services; its JSON line."""
    done = subprocess.run(
        [*BENCH, *args, "--json"],
        env=cluster_environment(settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=220,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.timeout(240)
def test_cluster_bench_settles_the_same_counts_exactly_once_and_tears_down(
    tmp_path: Path,
) -> None:
    require_postgres()
    require_services()
    result = bench(["--cluster", "--applications", "20", "--hirers", "4"], {}, tmp_path)
    library, cluster = result["library"], result["cluster"]
    assert result["applications"] == 20 and result["hirers"] == 4
    for path in (library, cluster):
        assert path["applications_per_s"] > 0 and path["seconds"] > 0
        assert path["counts"]["onderwijsregio_files"] > 0 and path["counts"]["kombo_files"] > 0
    assert cluster["counts"] == library["counts"] and result["counts_identical"] is True
    assert cluster["exactly_once"] is True and cluster["problems"] == []
    assert result["ratio_cluster_library"] > 0
    assert cluster["runs"] >= 1 and sum(cluster["runs_per_worker"].values()) == cluster["runs"]
    assert set(cluster["processes"]) == PROCESSES | {"worker-1", "worker-2"}
    assert all(p["peak_rss_mb"] > 0 for p in cluster["processes"].values())
    assert cluster["peak_rss_mb"] >= cluster["processes"]["worker-1"]["peak_rss_mb"]
    # Torn down: no process of its own left, its database dropped.
    assert cluster["torn_down"] is True and cluster["teardown_problems"] == []
    assert running_with(cluster["database"]) == []  # its queue's name, on the workers' lines
    services = load(ClusterServices, postgres_url=ADMIN_URL)
    assert not database_exists(services, cluster["database"])


@pytest.mark.timeout(240)
def test_trickle_times_each_application_on_the_cluster(tmp_path: Path) -> None:
    require_postgres()
    require_services()
    trickle = ["--trickle", "2", "--duration", "2", "--hirers", "3", "--paths", "cluster"]
    trickle += ["--settle-timeout", "90", "--idle-window", "1"]
    result = bench(trickle, {"SEEK_SYNC_SENSOR_INTERVAL_SECONDS": "5"}, tmp_path)
    figures = result["cluster"]
    assert result["applications"] == 4
    assert figures["applications"] == 4 and figures["unsettled"] == 0, figures
    assert figures["settled"] is True
    for key in ("accepted_s", "confirmed_s"):
        assert 0 < figures[key]["p50"] <= figures[key]["max"], figures
    assert figures["cpu_s_per_application"] > 0 and figures["peak_rss_mb"] > 0
    assert orphans("seek-sync-trickle-") == []  # the cluster torn down with its folder


def orphans(prefix: str) -> list[str]:
    """Command lines naming a folder under a `prefix*` temporary directory that is gone (a live
    bench elsewhere on the machine still has its own)."""
    found = []
    for line in running_with(f"/{prefix}"):
        folders = [w for w in line.split() if f"/{prefix}" in w]
        top = [
            Path(w[: w.index("/", w.index(prefix))]) for w in folders if "/" in w[w.index(prefix) :]
        ]
        if any(not folder.exists() for folder in top):
            found.append(line)
    return found
