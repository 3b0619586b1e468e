"""deploy/k8s/, deploy/helm/values.yaml and the Dockerfile agree with Kubernetes' schema, with each
other and with the project (module, settings, pins, instance limits). Offline: no cluster, no
`helm`, no image build."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from packaging.requirements import Requirement

from seek_sync.ats.targets import TargetMap
from seek_sync.receiver.app import health_routes
from seek_sync.settings import ReceiverSettings, Settings, env_names, load
from tests.deploy import chart
from tests.deploy.test_k8s import K8S_VERSION

DOCKERFILE = (chart.ROOT / "Dockerfile").read_text()


def _by_kind(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in chart.manifests() if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def test_every_manifest_validates_strictly() -> None:
    docs = chart.manifests()
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "ConfigMap", "Job"}
    for doc in docs:
        assert kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_a_wrong_field_in_a_manifest_fails() -> None:
    deployment = copy.deepcopy(_by_kind("Deployment", "seek-sync-receiver"))
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_the_receiver_runs_two_replicas_behind_its_service() -> None:
    deployment = _by_kind("Deployment", "seek-sync-receiver")
    service = _by_kind("Service", "seek-sync-receiver")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    command = container["command"]
    assert command[:3] == ["seek-sync", "receiver", "serve"]
    port = int(command[command.index("--port") + 1])
    assert command[command.index("--host") + 1] == "0.0.0.0"
    (container_port,) = container["ports"]
    assert container_port["containerPort"] == port
    assert (
        deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    )
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] == container_port["name"]
    paths = {route.path for route in health_routes(None, None)}  # type: ignore[arg-type]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] in paths
        assert container[probe]["httpGet"]["port"] == container_port["name"]


def test_each_process_is_given_only_settings_it_reads() -> None:
    """A misspelt or misplaced SEEK_SYNC_* variable would be ignored silently: each one set in a
    manifest or in the values is read by that process's settings model."""
    vals = chart.values()
    receiver = _by_kind("Deployment", "seek-sync-receiver")["spec"]["template"]["spec"]
    receiver_env = {e["name"] for e in receiver["containers"][0]["env"]}
    assert receiver_env <= env_names(ReceiverSettings)
    location_env = {e["name"] for e in chart.user_deployment(vals)["env"]}
    assert location_env <= env_names(Settings)


def test_the_hirer_map_in_the_config_map_loads(tmp_path: Path) -> None:
    config_map = _by_kind("ConfigMap", "seek-sync-hirers")
    path = tmp_path / "hirers.yaml"
    path.write_text(config_map["data"]["hirers.yaml"])
    targets = TargetMap.load(path)
    assert targets.for_hirer("seekAnzPublicTest:organization:seek:93WyyF1h")


def test_one_image_everywhere() -> None:
    image = chart.image(chart.user_deployment(chart.values()))
    for doc in chart.manifests():
        if doc["kind"] in ("Deployment", "Job"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                assert container["image"] == image
                assert doc["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 10001


def test_the_values_follow_the_project() -> None:
    vals = chart.values()
    project = chart.pyproject()
    args = chart.user_deployment(vals)["dagsterApiGrpcArgs"]
    assert args[args.index("--module-name") + 1] == project["tool"]["dagster"]["module_name"]
    instance = yaml.safe_load((chart.ROOT / "dagster-instance.yaml").read_text())
    assert chart.concurrency(vals) == instance["concurrency"]
    assert vals["dagsterDaemon"]["runMonitoring"]["enabled"] is True
    assert vals["runLauncher"]["type"] == "K8sRunLauncher"
    assert vals["postgresql"]["enabled"] is False
    assert vals["generatePostgresqlPasswordSecret"] is False
    assert "postgresqlPassword" not in vals["postgresql"]  # the password is only in a Secret
    assert vals["dagsterWebserver"]["image"]["tag"] == _pins()["dagster"]


def _pins() -> dict[str, str]:
    project = chart.pyproject()["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements.extend(extra)
    pins: dict[str, str] = {}
    for text in requirements:
        req = Requirement(text)
        if req.name.startswith("dagster"):
            (spec,) = req.specifier
            assert spec.operator == "==", text
            assert pins.setdefault(req.name, spec.version) == spec.version, text
    return pins


def test_every_dagster_library_is_pinned_to_the_release_of_core() -> None:
    """Core 1.X.Y goes with libraries 0.(X+16).Y: dagster 1.13.27 with dagster-k8s 0.29.27."""
    pins = _pins()
    major, minor, patch = (int(p) for p in pins["dagster"].split("."))
    assert major == 1
    core_versioned = {"dagster", "dagster-webserver", "dagster-dg-cli", "dagster-pipes"}
    for name, version in pins.items():
        expected = f"1.{minor}.{patch}" if name in core_versioned else f"0.{minor + 16}.{patch}"
        assert version == expected, f"{name}=={version}, expected {expected}"
    assert {"dagster-k8s", "dagster-celery", "dagster-postgres"} <= pins.keys()


def test_the_dockerfile_installs_the_package_without_the_dev_extra() -> None:
    project = chart.pyproject()
    extras = re.search(r"^ARG EXTRAS=(\S+)$", DOCKERFILE, re.M)
    assert extras is not None
    names = extras.group(1).split(",")
    assert set(names) <= project["project"]["optional-dependencies"].keys()
    assert "dev" not in names and "[dev]" not in DOCKERFILE
    assert 'pip install ".[${EXTRAS}]"' in DOCKERFILE
    python = re.search(r"^ARG PYTHON_VERSION=(\S+)$", DOCKERFILE, re.M)
    assert python is not None and python.group(1) == "3.11"
    # The run launcher starts `/opt/venv/bin/python -m dagster api execute_run` (test_k8s).
    assert "python -m venv /opt/venv" in DOCKERFILE and "PATH=/opt/venv/bin:$PATH" in DOCKERFILE
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M)
    assert cmd is not None
    command = yaml.safe_load(cmd.group(1))
    assert command[command.index("--module-name") + 1] == project["tool"]["dagster"]["module_name"]
    assert re.search(r"^USER 10001$", DOCKERFILE, re.M)


def test_the_receivers_settings_load_from_its_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receiver's plain env plus the secret names it needs make a valid ReceiverSettings."""
    receiver = _by_kind("Deployment", "seek-sync-receiver")["spec"]["template"]["spec"]
    for var in receiver["containers"][0]["env"]:
        monkeypatch.setenv(var["name"], var["value"])
    monkeypatch.delenv("SEEK_SYNC_HIRER_TARGETS_PATH")  # the mounted file exists only in the pod
    monkeypatch.setenv("SEEK_SYNC_SEEK_WEBHOOK_SECRET", "w" * 32)
    monkeypatch.setenv("SEEK_SYNC_DATABASE_URL", "postgresql+psycopg://seek@db:5432/seek")
    settings = load(ReceiverSettings)
    assert settings.database_schema == "seek_sync"
