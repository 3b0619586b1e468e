"""A whole local stack on loopback: the sandbox, the receiver app, settings and a Dagster home.

Used by `seek-sync demo`, `seek-sync dev` and the end-to-end tests. It starts the sandbox and the
receiver in-process, writes a hirer -> ATS map for the sandbox's hirers (alternating Onderwijsregio
and Kombo), points every `SEEK_SYNC_*` variable at the sandbox (restored on exit), and gives a
`DAGSTER_HOME` holding the project's `dagster-instance.yaml` as its `dagster.yaml` (pool limits;
on the server backend, storage in a fresh Dagster schema of that database:
seek_sync/dagster_instance.py). `seek-sync dev` also writes that environment to an env file
(`write_env_file`) so a second shell can launch runs against the stack.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from seek_sync.backend import open_inbox
from seek_sync.child_signals import default_stop_signals
from seek_sync.dagster_instance import make_home
from seek_sync.proxy.process import proxy_if
from seek_sync.receiver.app import running_receiver
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.settings import Settings, load_receiver_settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORKSPACE_YAML = PROJECT_ROOT / "workspace.yaml"
ENV_FILE_NAME = "env.sh"
OR_KEY_ENV, KOMBO_KEY_ENV = "SEEK_SYNC_SANDBOX_OR_API_KEY", "SEEK_SYNC_SANDBOX_KOMBO_API_KEY"


@dataclass
class LocalStack:
    sandbox: SandboxServer
    receiver_url: str
    settings: Settings
    home: Path
    dagster_home: Path
    targets: dict[str, str]  # hirer -> target kind
    # Every variable the stack set (SEEK_SYNC_* and DAGSTER_HOME): what another process needs.
    environment: dict[str, str] = field(default_factory=dict)
    on_demand: list[str] = field(default_factory=list)  # hirers whose files are never stored

    @property
    def info(self) -> dict[str, Any]:
        return self.sandbox.info()

    def fakes_idle(self) -> bool:
        """No Onderwijsregio mutation or callback in flight (Kombo answers synchronously)."""
        return bool(self.sandbox.state.fakes["onderwijsregio"].engine.idle())

    def wait_for_fakes(self, seconds: float = 30.0) -> bool:
        """Wait (up to `seconds`) until the ATS fakes are idle; whether they are."""
        deadline = time.monotonic() + seconds
        while not self.fakes_idle() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.fakes_idle()

    def files_at_fakes(self) -> dict[str, int]:
        """Files each ATS fake has stored (Kombo's own seeded applications' files included)."""
        fakes = self.sandbox.state.fakes
        return {
            "onderwijsregio": len(fakes["onderwijsregio"].uploads),
            "kombo": sum(len(files) for files in fakes["kombo"].store.attachments.values()),
        }


def target_entries(
    related: list[str],
    kinds: tuple[str, ...],
    integration_id: str,
    kombo_jobs: Callable[[str], dict[str, str]],
) -> dict[str, Any]:
    """Hirer map entries: each related hirer given a target kind in turn; a Kombo hirer gets its
    job reference -> Kombo job id map from `kombo_jobs`."""
    entries: dict[str, Any] = {}
    for index, hirer_id in enumerate(related):
        if kinds[index % len(kinds)] == "kombo":
            entries[hirer_id] = {
                "target": "kombo",
                "api_key_env": KOMBO_KEY_ENV,
                "integration_id": integration_id,
                "jobs": kombo_jobs(hirer_id),
            }
        else:
            entries[hirer_id] = {"target": "onderwijsregio", "api_key_env": OR_KEY_ENV}
    return entries


def mark_on_demand(entries: dict[str, Any]) -> list[str]:
    """The last hirer of each target kind made `attachments: on_demand`; those hirers."""
    last = {entry["target"]: hirer_id for hirer_id, entry in sorted(entries.items())}
    for hirer_id in last.values():
        entries[hirer_id]["attachments"] = "on_demand"
    return sorted(last.values())


def hirer_map(sandbox: SandboxServer, kinds: tuple[str, ...]) -> dict[str, Any]:
    """Every sandbox hirer with our relationship, given a target kind in turn."""
    world = sandbox.state.world
    related = sorted(h.id for h in world.hirers.values() if h.relationship)
    kombo_jobs = {job.remote_id: job.id for job in sandbox.state.fakes["kombo"].store.jobs.values()}
    references: dict[str, set[str]] = {}
    for job in world.jobs.values():
        references.setdefault(job.hirer_id, set()).add(job.seek_hirer_job_reference)

    def jobs(hirer_id: str) -> dict[str, str]:
        refs = sorted(references.get(hirer_id, set()))
        return {ref: kombo_jobs[ref] for ref in refs if ref in kombo_jobs}

    integration = sandbox.info()["kombo_integration_id"]
    return {"hirers": target_entries(related, kinds, integration, jobs)}


# Setting -> key of the sandbox's start-up line, for every SEEK URL and credential.
SEEK_FROM_INFO = {
    "seek_client_id": "client_id",
    "seek_client_secret": "client_secret",
    "seek_audience": "audience",
    "seek_token_url": "seek_token_url",
    "seek_graphql_url": "seek_graphql_url",
    "seek_browser_token_url": "seek_browser_token_url",
    "seek_scheme_id": "scheme_id",
    "seek_webhook_secret": "webhook_secret",
}


def stack_environment(info: dict[str, Any], home: Path, receiver_url: str) -> dict[str, str]:
    """Every `SEEK_SYNC_*` variable a run needs to work against this sandbox."""
    seek = {f"SEEK_SYNC_{name.upper()}": info[key] for name, key in SEEK_FROM_INFO.items()}
    return seek | {
        "SEEK_SYNC_ONDERWIJSREGIO_URL": info["onderwijsregio_url"],
        "SEEK_SYNC_ONDERWIJSREGIO_CALLBACK_SECRET": info["onderwijsregio_callback_secret"],
        "SEEK_SYNC_KOMBO_URL": info["kombo_url"],
        "SEEK_SYNC_KOMBO_INTEGRATION_ID": info["kombo_integration_id"],
        OR_KEY_ENV: info["onderwijsregio_api_key"],
        KOMBO_KEY_ENV: info["kombo_api_key"],
        "SEEK_SYNC_HOME": str(home),
        "SEEK_SYNC_HIRER_TARGETS_PATH": str(home / "hirer-targets.yaml"),
        "SEEK_SYNC_RECEIVER_PUBLIC_URL": receiver_url,
        "SEEK_SYNC_BLOB_SIGNING_SECRET": secrets.token_hex(24),
        "SEEK_SYNC_PROXY_SIGNING_SECRET": secrets.token_hex(24),
    }


def proxy_values(env: dict[str, str]) -> dict[str, str]:
    """What the attachment proxy is given: SEEK's credentials and URLs and its signing key."""
    keep = [f"SEEK_SYNC_{name.upper()}" for name in SEEK_FROM_INFO if name != "seek_webhook_secret"]
    return {k: env[k] for k in [*keep, "SEEK_SYNC_PROXY_SIGNING_SECRET"]}


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@contextmanager
def local_stack(
    home: Path,
    config: SandboxConfig | None = None,
    *,
    kinds: tuple[str, ...] = ("onderwijsregio", "kombo"),
    extra_env: dict[str, str] | None = None,
    on_demand: bool = False,
) -> Iterator[LocalStack]:
    """The sandbox and the receiver running, the environment pointing at them (`on_demand`:
    the last hirer of each kind on demand, and the attachment proxy running)."""
    home.mkdir(parents=True, exist_ok=True)
    with SandboxServer(config or SandboxConfig()) as sandbox:
        info = sandbox.info()
        targets = hirer_map(sandbox, kinds)
        demand = mark_on_demand(targets["hirers"]) if on_demand else []
        (home / "hirer-targets.yaml").write_text(yaml.safe_dump(targets), encoding="utf-8")
        env = stack_environment(info, home, "http://127.0.0.1:0") | (extra_env or {})
        with (
            proxy_if(proxy_values(env) if demand else None) as proxy_env,
            patched_environ(env | proxy_env),
        ):
            env |= proxy_env
            receiver = load_receiver_settings()  # the receiver reads its own settings only
            inbox = open_inbox(receiver)
            with running_receiver(receiver, inbox) as receiver_url:
                dhome = home / "dagster"  # a new sandbox, a fresh instance on a shared server
                more = {"SEEK_SYNC_RECEIVER_PUBLIC_URL": receiver_url}
                more |= make_home(dhome, fresh=True)
                with patched_environ(more):
                    yield LocalStack(
                        sandbox,
                        receiver_url,
                        load_settings(),
                        home,
                        dhome,
                        {h: e["target"] for h, e in targets["hirers"].items()},
                        env | more,
                        demand,
                    )


def write_env_file(path: Path, environment: dict[str, str]) -> Path:
    """`export KEY=value` lines (shell-quoted) for `source`, written owner-only (0600): the values
    include the sandbox's credentials and the blob-URL signing key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by `seek-sync dev`: the settings of the running stack, for a second shell.",
        "# Valid only while that `seek-sync dev` runs (a new start is a new sandbox and new keys).",
        *(f"export {key}={shlex.quote(value)}" for key, value in sorted(environment.items())),
    ]
    path.unlink(missing_ok=True)  # a fresh file, so the mode below is the one it gets
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)  # whatever the umask
    return path


DEV_RUN_LOGS = "python_logs:\n  python_log_level: INFO\n"


def quiet_run_logs(home: Path) -> None:
    """Runs in this Dagster home print at INFO (the dev log): their DEBUG events (`STEP_START`,
    ...) stay in the event log and the UI. It is the instance's level of every run's console
    logger, so it covers runs launched from the UI, the daemon and a second shell alike."""
    with (home / "dagster.yaml").open("a", encoding="utf-8") as out:
        out.write(DEV_RUN_LOGS)


def dev_env_file(stack: LocalStack) -> Path:
    """Write the stack's environment to `<home>/env.sh`; its path."""
    return write_env_file(stack.home / ENV_FILE_NAME, stack.environment)


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it is below it (what a user types)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def dev_banner(stack: LocalStack, env_file: Path, port: int) -> list[str]:
    """What `seek-sync dev` prints: where things run and how a second shell joins. No secret
    (URLs, paths and the hirer ids only; the credentials stay in the 0600 env file)."""
    env_path = display_path(env_file)
    hirer = "'<hirer key>'"  # made on the sensor's first tick; `seek-sync hirers` lists them
    return [
        f"sandbox {stack.sandbox.base_url}  receiver {stack.receiver_url}",
        f"DAGSTER_HOME={stack.dagster_home}  UI http://127.0.0.1:{port}",
        f"hirers: {', '.join(sorted(stack.targets))}",
        f"settings for a second shell (0600): {env_path}",
        f"  source {shlex.quote(env_path)}",
        "  seek-sync hirers   # each hirer's partition key, SEEK id and name",
        f"  dg launch --assets 'application_events*' --partition {hirer}",
        f"  dagster asset materialize -m seek_sync.definitions --select 'application_events*'"
        f" --partition {hirer}",
    ]


def sandbox_settings(info: dict[str, Any], home: Path, **overrides: Any) -> Settings:
    """Settings (without touching the environment) that point every SEEK URL at a sandbox."""
    seek = {name: info[key] for name, key in SEEK_FROM_INFO.items()}
    return load_settings(**seek, home=home, **overrides)


def run_dagster_dev(command: list[str]) -> int:
    """Run `dagster dev` in its own process group until it has shut down; its exit code.

    Ctrl-C or SIGTERM here sends SIGINT to that whole group, as a terminal's Ctrl-C would: the
    webserver, the daemon, the code servers and any run in progress stop together, and this
    process waits for `dagster dev` to finish shutting down rather than killing it half-way (as
    `subprocess.run` does, which left its children behind). SIGINT is reset to its default in the
    child: a shell that starts a job in the background makes it ignored, and nothing would stop."""
    env = os.environ | {"PYTHONWARNINGS": _quiet_warnings(os.environ.get("PYTHONWARNINGS"))}
    child = subprocess.Popen(command, process_group=0, preexec_fn=default_stop_signals, env=env)

    def stop(*_: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGINT)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# `dagster dev` calls itself superseded by `dg dev` on every start (a SupersessionWarning, a
# FutureWarning); we keep `dagster dev` for its workspace.yaml and flags, so that one line goes.
DAGSTER_DEV_SUPERSEDED = "ignore:Function `dev_command` is superseded:FutureWarning"


def _quiet_warnings(current: str | None) -> str:
    return ",".join(filter(None, [current, DAGSTER_DEV_SUPERSEDED]))
