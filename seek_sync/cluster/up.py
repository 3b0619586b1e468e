"""`seek-sync cluster up`: every process of the distributed deployment, started and answering.

Order: a database of the cluster's own; the sandbox and moto; the hirer map (from the sandbox's
admin API), a bucket and the state schema (`db upgrade`); then the receivers, the code server and
the workers; once the code server serves, the webserver and the daemon (they load the workspace
from it at start). It returns once every process answers. Anything that fails on the way tears
down what was started (`down.py`). Given an existing database, bucket or running sandbox
(`existing.py`: a home moved up with `seek-sync migrate`), the cluster uses it instead of making
or starting one. The state file is written after each process starts, so a
`cluster down` after a crash of this command still finds them.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from seek_sync.celery_cluster import BACKEND_ENV, BROKER_ENV, QUEUE_ENV, SLOTS_ENV
from seek_sync.cluster import health, roles
from seek_sync.cluster.config import ClusterServices, ClusterState, save_environment
from seek_sync.cluster.existing import Existing, route_webhooks
from seek_sync.cluster.health import ClusterError
from seek_sync.cluster.processes import spawn
from seek_sync.cluster.services import create_database
from seek_sync.launch import LOCATION, MODULE
from seek_sync.local_stack import patched_environ, stack_environment
from seek_sync.process_stack import free_port, write_hirer_map
from seek_sync.settings import ENV_PREFIX

BIN = Path(sys.executable).parent
WORKERS = 2
RECEIVERS = 2
KINDS = ("onderwijsregio", "kombo")


@dataclass(frozen=True)
class World:
    """The sandbox's world: `seek-sync sandbox serve` options."""

    applications: int = 60
    hirers: int = 6
    seed: int = 7
    edge_cases: bool = True
    webhook_duplicates: float = 0.5

    def world_options(self) -> list[str]:
        """The options that make the world (a sandbox with them alone holds the same one)."""
        return [
            *("--applications", str(self.applications), "--hirers", str(self.hirers)),
            *("--seed", str(self.seed)),
            "--edge-cases" if self.edge_cases else "--no-edge-cases",
        ]

    def options(self, receivers: list[str]) -> list[str]:
        hooks = [arg for url in receivers for arg in ("--webhook-url", f"{url}/webhooks/seek")]
        duplicates = ["--webhook-duplicates", str(self.webhook_duplicates)]
        return [*self.world_options(), *duplicates, *hooks]


def caller_settings(environ: dict[str, str]) -> dict[str, str]:
    """The caller's own seek-sync settings (`SEEK_SYNC_HIRERS_PER_RUN`, ...), which the cluster's
    processes get where their role reads them; never the cluster's services."""
    own = (f"{ENV_PREFIX}CLUSTER_", f"{ENV_PREFIX}CELERY_", f"{ENV_PREFIX}DATABASE_")
    return {k: v for k, v in environ.items() if k.startswith(ENV_PREFIX) and not k.startswith(own)}


def workspace(home: Path, port: int) -> Path:
    """The webserver's and the daemon's workspace: the code server, by host and port."""
    entry = {"host": "127.0.0.1", "port": port, "location_name": LOCATION}
    path = home / "workspace.yaml"
    path.write_text(yaml.safe_dump({"load_from": [{"grpc_server": entry}]}), encoding="utf-8")
    return path


def _ui_port(wanted: int) -> int:
    if wanted == 0:
        return free_port()
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", wanted))
        except OSError:
            raise ClusterError(
                f"port {wanted} is taken: give another with --ui-port (0 picks a free one)"
            ) from None
    return wanted


def bring_up(
    state: ClusterState,
    services: ClusterServices,
    world: World,
    environ: dict[str, str],
    ui_port: int,
    deadline: float,
    say: Callable[[str], None],
    existing: Existing | None = None,
) -> dict[str, str]:
    """Start everything (recording each process in `state` as it starts), the services known
    to answer; the environment of the cluster's run processes, its Dagster home the cluster's
    own. `existing`: what to use as it is (applied to `state` already)."""
    home, root = state.home, state.home / "processes"
    existing = existing or Existing()
    if existing.database is None:
        create_database(services, state.database)
    state.save()
    ports = {name: free_port() for name in ("sandbox", "s3", "code-server")}
    receivers = [f"http://127.0.0.1:{free_port()}" for _ in range(RECEIVERS)]
    ui = _ui_port(ui_port)

    def start(name: str, command: list[str], env: dict[str, str], port: int | None) -> None:
        record, _ = spawn(name, command, env, root, port)
        state.processes.append(record)
        state.save()

    py, base = sys.executable, roles.base_environment()
    info: dict[str, object] = dict(existing.sandbox or {})
    checks: dict[str, Callable[[], bool]] = {}
    if existing.sandbox is None:
        say("starting the sandbox")
        sandbox = [py, "-m", "seek_sync.cli", "sandbox", "serve", "--port", str(ports["sandbox"])]
        start("sandbox", sandbox + world.options(receivers), base, ports["sandbox"])

        def sandbox_up() -> bool:
            info.update(health.sandbox_info(state.process("sandbox")) or {})
            return bool(info) and health.http_ok(f"{info['base_url']}/_sandbox/summary")()

        checks["sandbox"] = sandbox_up
    else:
        say(f"using the running sandbox at {existing.sandbox_url}")
    s3_url = existing.s3_endpoint or f"http://127.0.0.1:{ports['s3']}"
    if existing.s3_endpoint is None:
        say("starting a moto S3")
        moto = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(ports["s3"])]
        start("s3", moto, base, ports["s3"])
        checks["s3"] = health.http_ok(s3_url)
    health.wait_until(checks, state.processes, deadline)
    state.sandbox_url, state.receiver_urls = str(info["base_url"]), receivers
    write_hirer_map(state.sandbox_url, info, home / "hirer-targets.yaml", KINDS)
    if existing.blob_url is None:
        make_bucket(s3_url, state.bucket)

    stack = caller_settings(environ) | stack_environment(info, home, receivers[0])
    stack |= {
        f"{ENV_PREFIX}DATABASE_URL": services.database_url(state.database),
        f"{ENV_PREFIX}BLOB_URL": existing.blobs(state.bucket),
        f"{ENV_PREFIX}S3_ENDPOINT_URL": s3_url,
        BROKER_ENV: services.broker_url.get_secret_value(),
        BACKEND_ENV: services.redis_url.get_secret_value(),
        QUEUE_ENV: state.queue,
        SLOTS_ENV: str(WORKERS),  # one run slot per worker
    }
    upgrade_schema(stack)

    say("starting two receivers, the code server and two workers")
    for number, url in enumerate(receivers):
        name = f"receiver-{number + 1}"
        serve = [py, "-m", "seek_sync.cli", "receiver", "serve", "--port", url.rsplit(":", 1)[1]]
        start(name, serve, roles.receiver_role(stack, root / name), int(url.rsplit(":", 1)[1]))
    code = [str(BIN / "dagster"), "api", "grpc", "-m", MODULE, "-h", "127.0.0.1"]
    code += ["-p", str(ports["code-server"]), "--location-name", LOCATION]
    env = roles.code_server_role(stack, root / "code-server")
    start("code-server", code, env, ports["code-server"])
    host = socket.gethostname()
    for number in range(1, WORKERS + 1):
        name, node = f"worker-{number}", f"cluster-{state.token}-{number}"
        command = [py, "-m", "seek_sync.cli", "worker", "--name", node, "--slots", "1"]
        command += ["--dagster-home", str(root / name / "dagster")]
        start(name, command, roles.worker_role(stack, root / name), None)
        state.workers.append(f"{node}@{host}")
    checks = {
        f"receiver-{n + 1}": health.http_ok(f"{url}/healthz") for n, url in enumerate(receivers)
    }
    checks["code-server"] = health.grpc_serving(ports["code-server"])
    health.wait_until(checks, state.processes, deadline)
    if existing.sandbox is not None:  # its webhooks, once the receivers answer
        route_webhooks(state.sandbox_url, receivers, world.webhook_duplicates)

    say("starting the webserver and the daemon")
    spaces = ["-w", str(workspace(home, ports["code-server"]))]
    webserver = [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(ui), *spaces]
    start("webserver", webserver, roles.dagster_role(stack, root / "webserver"), ui)
    daemon = [str(BIN / "dagster-daemon"), "run", *spaces]
    start("daemon", daemon, roles.dagster_role(stack, root / "daemon"), None)
    state.ui_url = f"http://127.0.0.1:{ui}"
    state.save()
    mine = stack | roles.dagster_variables(stack, home / "dagster") | roles.MOTO_CREDENTIALS
    save_environment(home, mine)
    wait_answering(state, mine, deadline)
    return mine


def wait_answering(state: ClusterState, env: dict[str, str], deadline: float) -> None:
    """Until the webserver, the daemon (its heartbeats) and both workers answer too."""
    import dagster as dg

    with patched_environ(roles.instance_variables(env)):
        instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
        with instance:
            checks = {
                "webserver": health.http_ok(f"{state.ui_url}/server_info"),
                "daemon": health.daemon_healthy(instance),
                "workers": health.workers_answer(env[BROKER_ENV], state.workers),
            }
            health.wait_until(checks, state.processes, deadline)


def make_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    credentials = roles.MOTO_CREDENTIALS
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        region_name=credentials["AWS_DEFAULT_REGION"],
    ).create_bucket(Bucket=bucket)


def upgrade_schema(stack: dict[str, str]) -> None:
    """The state schema made once, before any process opens it (`seek-sync db upgrade`)."""
    from seek_sync.backend import components
    from seek_sync.settings import WarehouseFields, load

    fields = {
        k.removeprefix(ENV_PREFIX).lower(): v for k, v in stack.items() if k.startswith(ENV_PREFIX)
    }
    known = {k: v for k, v in fields.items() if k in WarehouseFields.model_fields}
    for component in components(load(WarehouseFields, **known)):
        component.upgrade()
