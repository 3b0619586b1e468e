"""The Kubernetes deployment, validated offline (no cluster, no `helm`, no image build here).

- The run launcher block our Helm values give (rendered as the chart renders it) loads in
  `dagster instance info` with dagster-k8s installed, and a wrong key in it fails.
- The instance's storage and compute-log blocks pass Dagster's own config schemas.
- The Kubernetes Job that dagster-k8s builds for one of our runs, and every manifest under
  deploy/k8s/, validate against Kubernetes' schema (kubernetes-validate, strict: no unknown field).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes
import kubernetes_validate
import pytest
import yaml
from dagster import DagsterInstance
from dagster._config import process_config, resolve_to_config_type
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.launcher import LaunchRunContext
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.test_utils import create_run_for_test
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
from dagster_k8s import K8sRunLauncher
from dagster_postgres import PostgresRunStorage

from tests.deploy import chart

# The Kubernetes release whose schema everything is validated against (kubernetes-validate 1.37.0
# ships 1.x schemas up to 1.37); the cluster may be newer, these APIs are all GA.
K8S_VERSION = "1.34.0"
DAGSTER = Path(sys.executable).with_name("dagster")
FAKE_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "fake", "cluster": {"server": "https://127.0.0.1:1"}}],
    "users": [{"name": "fake", "user": {"token": "not-a-token"}}],
    "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
    "current-context": "fake",
}


def _home(tmp_path: Path, run_launcher: dict[str, Any]) -> Path:
    """A DAGSTER_HOME whose dagster.yaml holds what the chart renders from our values (storage
    left on SQLite: no PostgreSQL here)."""
    vals = chart.values()
    home = tmp_path / "dagster_home"
    home.mkdir()
    instance = {
        "run_launcher": run_launcher,
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
        },
        "run_monitoring": chart.run_monitoring(vals),
        "concurrency": chart.concurrency(vals),
        "telemetry": {"enabled": vals["telemetry"]["enabled"]},
    }
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance, sort_keys=False))
    return home


def _kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(FAKE_KUBECONFIG))
    return path


def _instance_info(home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    return subprocess.run(
        [str(DAGSTER), "instance", "info"],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=55,
        check=False,
    )


def test_run_launcher_block_loads_in_dagster_instance_info(tmp_path: Path) -> None:
    launcher = chart.run_launcher(chart.values(), kubeconfig=_kubeconfig(tmp_path))
    result = _instance_info(_home(tmp_path, launcher))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "K8sRunLauncher" in result.stdout
    assert "seek-sync-env" in result.stdout  # the env_secrets of our values, as loaded
    # The pools, run limit and run monitoring blocks passed the instance schema too.
    assert "default_limit: 2" in result.stdout
    assert "max_concurrent_runs: 4" in result.stdout
    assert "free_slots_after_run_end_seconds: 60" in result.stdout


def test_run_launcher_block_with_a_wrong_key_fails(tmp_path: Path) -> None:
    launcher = chart.run_launcher(chart.values(), kubeconfig=_kubeconfig(tmp_path))
    launcher["config"]["job_namspace"] = launcher["config"].pop("job_namespace")
    result = _instance_info(_home(tmp_path, launcher))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "job_namspace" in output
    assert "K8sRunLauncher" in output or "run_launcher" in output


def test_storage_and_compute_log_blocks_pass_dagsters_schemas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the chart writes for storage (from postgresql.*) and compute logs, checked against the
    config schemas of dagster-postgres and dagster-aws without connecting to either."""
    vals = chart.values()
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "not-a-password")
    storage = process_config(
        resolve_to_config_type(PostgresRunStorage.config_type()),
        {"postgres_db": chart.postgres_db(vals)},
    )
    assert storage.success, storage.errors
    db = storage.value["postgres_db"]
    assert db["scheme"] == "postgresql+psycopg2"  # never SQLAlchemy's psycopg 3 default
    pg_file = yaml.safe_load((chart.ROOT / "dagster-postgres.yaml").read_text())
    assert db["params"] == pg_file["storage"]["postgres"]["postgres_db"]["params"]

    s3 = vals["computeLogManager"]["config"]["s3ComputeLogManager"]
    logs = process_config(
        resolve_to_config_type(S3ComputeLogManager.config_type()),
        {"bucket": s3["bucket"], "prefix": s3["prefix"]},
    )
    assert logs.success, logs.errors


class _CapturingApi:
    """Stands in for the Kubernetes API: keeps the Job the launcher would create."""

    def __init__(self) -> None:
        self.created: list[tuple[kubernetes.client.V1Job, str]] = []

    def create_namespaced_job_with_retries(
        self, body: kubernetes.client.V1Job, namespace: str
    ) -> None:
        self.created.append((body, namespace))


def _run_job(tmp_path: Path) -> tuple[dict[str, Any], str]:
    """The Job the K8s run launcher of our values builds for a `hirer_batch` run of our code
    location's image, as a plain manifest."""
    vals = chart.values()
    deployment = chart.user_deployment(vals)
    launcher_block = chart.run_launcher(vals, kubeconfig=_kubeconfig(tmp_path))
    instance = DagsterInstance.from_config(str(_home(tmp_path, launcher_block)))
    try:
        launcher = instance.run_launcher
        assert isinstance(launcher, K8sRunLauncher)
        api = _CapturingApi()
        launcher._api_client = api  # type: ignore[assignment]
        repository = RepositoryPythonOrigin(
            executable_path="/opt/venv/bin/python",
            code_pointer=ModuleCodePointer("seek_sync.definitions", "defs", "/opt/dagster/app"),
            container_image=chart.image(deployment),
            container_context=chart.container_context(vals),
        )
        origin = JobPythonOrigin("hirer_batch", repository)
        run = create_run_for_test(instance, job_name="hirer_batch", job_code_origin=origin)
        launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    finally:
        instance.dispose()
    ((job, namespace),) = api.created
    manifest = kubernetes.client.ApiClient().sanitize_for_serialization(job)
    return manifest, namespace


def test_the_run_job_dagster_k8s_builds_validates(tmp_path: Path) -> None:
    manifest, namespace = _run_job(tmp_path)
    assert namespace == chart.NAMESPACE
    assert kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)

    vals = chart.values()
    deployment = chart.user_deployment(vals)
    spec = manifest["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["ttlSecondsAfterFinished"] == 86400
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == chart.image(deployment)
    # The code server's python (the image's venv, Dockerfile) runs the run worker.
    assert container["args"][:5] == ["/opt/venv/bin/python", "-m", "dagster", "api", "execute_run"]
    secrets = {ref["secretRef"]["name"] for ref in container["envFrom"] if "secretRef" in ref}
    assert "seek-sync-env" in secrets
    env = {var["name"]: var for var in container["env"]}
    assert env["DAGSTER_PG_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": vals["global"]["postgresqlSecretName"],
        "key": "postgresql-password",
    }
    assert env["SEEK_SYNC_HIRER_TARGETS_PATH"]["value"] == "/etc/seek-sync/hirers.yaml"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["hirers"] == "/etc/seek-sync"
    assert {v["name"] for v in pod["volumes"]} == {"hirers"}
    assert pod["serviceAccountName"] == chart.RELEASE


def test_the_run_job_with_a_wrong_field_fails_validation(tmp_path: Path) -> None:
    """The control: strict validation does reject what Kubernetes would."""
    manifest, _ = _run_job(tmp_path)
    manifest["spec"]["backofLimit"] = 0
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
