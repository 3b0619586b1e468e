"""The instance file for runs on Celery workers, without any service: which settings choose it,
what each refusal says, and that the file names no server and holds no secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.launcher import RunLauncher
from dagster_celery.launcher import CeleryRunLauncher

from seek_sync.celery_cluster import (
    BACKEND_ENV,
    BROKER_ENV,
    CELERY_YAML,
    QUEUE_ENV,
    SLOTS_ENV,
    CeleryCluster,
)
from seek_sync.dagster_instance import DAGSTER_YAML, DagsterDatabase, instance_yaml
from seek_sync.local_stack import patched_environ
from seek_sync.settings import SettingsError

DATABASE = {"SEEK_SYNC_DATABASE_URL": "postgresql+psycopg://svc:pw@db.internal.example:5432/seek"}
BROKER = "amqp://runs:br0ker-secret@mq.internal.example:5672/seek"
BACKEND = "redis://:r3dis-secret@cache.internal.example:6379/3"
CLUSTER = DATABASE | {BROKER_ENV: BROKER, BACKEND_ENV: BACKEND}


def values(tree: Any) -> list[Any]:
    if isinstance(tree, dict):
        return [v for value in tree.values() for v in values(value)]
    if isinstance(tree, list):
        return [v for value in tree for v in values(value)]
    return [tree]


def test_no_broker_no_cluster_and_each_refusal_is_one_line() -> None:
    assert CeleryCluster.chosen(DATABASE) is None
    assert CeleryCluster.chosen(CLUSTER) == CeleryCluster("seek_sync", 1)
    refusals = {
        "server backend": {BROKER_ENV: BROKER, BACKEND_ENV: BACKEND},
        f"{BACKEND_ENV} is missing": DATABASE | {BROKER_ENV: BROKER},
        "rpc:// result reaches only": CLUSTER | {BACKEND_ENV: "rpc://"},
        "AMQP": CLUSTER | {BROKER_ENV: "redis://cache:6379/0"},
        f"{SLOTS_ENV} is invalid": CLUSTER | {SLOTS_ENV: "0"},
        f"{QUEUE_ENV} is invalid": CLUSTER | {QUEUE_ENV: "no spaces"},
    }
    for expected, environ in refusals.items():
        with pytest.raises(SettingsError, match=expected) as refused:
            CeleryCluster.chosen(environ)
        assert "\n" not in str(refused.value)
        assert "secret" not in str(refused.value)


def test_the_instance_file_launches_runs_on_celery_and_names_no_server(tmp_path: Path) -> None:
    environ = CLUSTER | {QUEUE_ENV: "tenant1_runs", SLOTS_ENV: "6"}
    database, cluster = DagsterDatabase.chosen(environ), CeleryCluster.chosen(environ)
    assert database is not None and cluster is not None
    text = instance_yaml(database, cluster)
    literals = ("br0ker-secret", "r3dis-secret", "mq.internal", "cache.internal", "tenant1_runs")
    assert [literal for literal in literals if literal in text] == []
    written = yaml.safe_load(text)
    launcher = written["run_launcher"]
    assert (launcher["module"], launcher["class"]) == (
        "dagster_celery.launcher",
        "CeleryRunLauncher",
    )
    assert {k: launcher["config"][k] for k in ("broker", "backend", "default_queue")} == {
        "broker": {"env": BROKER_ENV},
        "backend": {"env": BACKEND_ENV},
        "default_queue": {"env": QUEUE_ENV},
    }
    assert written["run_monitoring"]["enabled"] is True
    assert written["run_monitoring"]["max_resume_run_attempts"] == 0
    assert written["concurrency"]["runs"]["max_concurrent_runs"] == 6  # the run slots
    pools = yaml.safe_load(DAGSTER_YAML.read_text(encoding="utf-8"))["concurrency"]["pools"]
    assert written["concurrency"]["pools"] == pools  # the project's pool limits kept
    assert written["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    shipped = yaml.safe_load(CELERY_YAML.read_text(encoding="utf-8"))
    assert [v for v in values(shipped) if "://" in str(v)] == []
    # Dagster reads it: the launcher is dagster-celery's, its values resolved from the environment.
    (tmp_path / "dagster.yaml").write_text(text, encoding="utf-8")
    with patched_environ({QUEUE_ENV: "tenant1_runs", BROKER_ENV: BROKER, BACKEND_ENV: BACKEND}):
        data = InstanceRef.from_dir(str(tmp_path)).run_launcher_data
        assert data is not None
        built = data.rehydrate(RunLauncher)
    assert isinstance(built, CeleryRunLauncher)
    assert (built.default_queue, built.broker, built.backend) == ("tenant1_runs", BROKER, BACKEND)
    assert built.celery.conf.task_acks_late is True
    assert built.celery.conf.worker_prefetch_multiplier == 1


def test_a_worker_without_a_broker_refuses_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEEK_SYNC_", "DAGSTER_"))}
    worker = subprocess.run(
        [sys.executable, "-m", "seek_sync.cli", "worker", "--name", "w"],
        env=env | DATABASE | {"DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 2
    assert (
        worker.stderr.strip()
        == f"seek-sync: setting {BROKER_ENV} is missing (runs on Celery workers)"
    )
    assert list(tmp_path.iterdir()) == []
