"""What the Dagster Helm chart (1.13.27) renders from deploy/helm/values.yaml, redone in Python for
the parts that reach Dagster: the instance's run launcher, run monitoring, concurrency and storage
blocks (templates/helpers/instance/*.tpl) and the code server's container context. No `helm` can
run here, so these mirror the templates key for key and go no further than our values need."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "deploy" / "helm" / "values.yaml"
MANIFESTS = ROOT / "deploy" / "k8s"
RELEASE = "dagster"  # `helm install dagster ...`: the release name holds the chart's, so fullname
NAMESPACE = "seek-sync"
DEFAULT_DAGSTER_HOME = "/opt/dagster/dagster_home"  # the chart's global.dagsterHome

# runK8sConfig keys -> run_k8s_config keys (_run-launcher.tpl)
_RUN_K8S_CONFIG = {
    "containerConfig": "container_config",
    "podSpecConfig": "pod_spec_config",
    "podTemplateSpecMetadata": "pod_template_spec_metadata",
    "jobSpecConfig": "job_spec_config",
    "jobMetadata": "job_metadata",
}


def values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


def manifests() -> list[dict[str, Any]]:
    """Every document of every file under deploy/k8s/."""
    docs: list[dict[str, Any]] = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def user_deployment(vals: dict[str, Any]) -> dict[str, Any]:
    (deployment,) = vals["dagster-user-deployments"]["deployments"]
    return deployment


def image(deployment: dict[str, Any]) -> str:
    return f"{deployment['image']['repository']}:{deployment['image']['tag']}"


def run_launcher(vals: dict[str, Any], kubeconfig: Path | None = None) -> dict[str, Any]:
    """The `run_launcher` block; with `kubeconfig`, loaded from that file instead of in-cluster
    config (the one change made to load it outside a cluster)."""
    k8s = vals["runLauncher"]["config"]["k8sRunLauncher"]
    glob = vals.get("global", {})
    config: dict[str, Any] = {
        "load_incluster_config": k8s.get("loadInclusterConfig", True),
        "job_namespace": k8s.get("jobNamespace") or NAMESPACE,
        "image_pull_policy": k8s.get("imagePullPolicy", "Always"),
        "service_account_name": glob.get("serviceAccountName") or RELEASE,
        "dagster_home": glob.get("dagsterHome", DEFAULT_DAGSTER_HOME),
        "instance_config_map": f"{RELEASE}-instance",
        "postgres_password_secret": glob["postgresqlSecretName"],
    }
    if kubeconfig is not None:
        config["load_incluster_config"] = False
        config["kubeconfig_file"] = str(kubeconfig)
    if k8s.get("envConfigMaps"):
        config["env_config_maps"] = [c["name"] for c in k8s["envConfigMaps"]]
    if k8s.get("envSecrets"):
        config["env_secrets"] = [s["name"] for s in k8s["envSecrets"]]
    for key, target in (("envVars", "env_vars"), ("volumes", "volumes"), ("labels", "labels")):
        if k8s.get(key):
            config[target] = k8s[key]
    if k8s.get("volumeMounts"):
        config["volume_mounts"] = k8s["volumeMounts"]
    if k8s.get("resources"):
        config["resources"] = k8s["resources"]
    if k8s.get("failPodOnRunFailure"):
        config["fail_pod_on_run_failure"] = True
    if k8s.get("runK8sConfig"):
        config["run_k8s_config"] = {
            _RUN_K8S_CONFIG[key]: value for key, value in k8s["runK8sConfig"].items() if value
        }
    return {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": config}


def run_monitoring(vals: dict[str, Any]) -> dict[str, Any]:
    monitoring = vals["dagsterDaemon"]["runMonitoring"]
    block: dict[str, Any] = {
        "enabled": monitoring["enabled"],
        "start_timeout_seconds": monitoring["startTimeoutSeconds"],
        "poll_interval_seconds": monitoring["pollIntervalSeconds"],
    }
    optional = {
        "cancelTimeoutSeconds": "cancel_timeout_seconds",
        "maxRuntimeSeconds": "max_runtime_seconds",
        "maxResumeRunAttempts": "max_resume_run_attempts",
        "freeSlotsAfterRunEndSeconds": "free_slots_after_run_end_seconds",
    }
    block.update({target: monitoring[key] for key, target in optional.items() if key in monitoring})
    return block


def concurrency(vals: dict[str, Any]) -> dict[str, Any]:
    """The `concurrency` block (_concurrency.tpl), rendered only when enabled."""
    conc = vals["concurrency"]
    assert conc["enabled"], "concurrency.enabled is false: the chart renders no pools or run limit"
    block: dict[str, Any] = {}
    pools = {k: v for k, v in conc.get("pools", {}).items() if v is not None}
    names = {"defaultLimit": "default_limit", "granularity": "granularity"}
    if pools:
        block["pools"] = {names.get(k, "op_granularity_run_buffer"): v for k, v in pools.items()}
    runs = conc.get("runs", {})
    if runs.get("maxConcurrentRuns") is not None:
        block["runs"] = {"max_concurrent_runs": runs["maxConcurrentRuns"]}
    return block


def postgres_db(vals: dict[str, Any]) -> dict[str, Any]:
    """The `postgres_db` config of the run, event-log and schedule storage (_postgresql.tpl)."""
    pg = vals["postgresql"]
    block: dict[str, Any] = {
        "username": pg["postgresqlUsername"],
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": pg["postgresqlHost"],
        "db_name": pg["postgresqlDatabase"],
        "port": pg["service"]["port"],
        "params": pg.get("postgresqlParams", {}),
    }
    if pg.get("postgresqlScheme"):
        block["scheme"] = pg["postgresqlScheme"]
    return block


def container_context(vals: dict[str, Any]) -> dict[str, Any]:
    """The code server's container context (DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT), which the
    run launcher merges into each run's pod under includeConfigInLaunchedRuns: the parts of it
    that our deployment sets."""
    deployment = user_deployment(vals)
    assert deployment["includeConfigInLaunchedRuns"]["enabled"]
    k8s: dict[str, Any] = {
        "image_pull_policy": deployment["image"]["pullPolicy"],
        "env": deployment.get("env", []),
        "env_secrets": [s["name"] for s in deployment.get("envSecrets", [])],
        "volumes": deployment.get("volumes", []),
        "volume_mounts": deployment.get("volumeMounts", []),
        "namespace": NAMESPACE,
    }
    if deployment.get("resources"):
        k8s["resources"] = deployment["resources"]
    return {"k8s": k8s}
