"""The local stack as an operator runs it: the sandbox and the receiver each their own process.

`process_stack` starts `seek-sync sandbox serve` and `seek-sync receiver serve` (in an environment
holding only the receiver's own settings; `receivers=2` starts replicas, each its own process with
its own working and temporary folder, all writing the one inbox the settings name) as processes,
writes the hirer -> ATS map from the sandbox's own admin API (related hirers, alternating
Onderwijsregio and Kombo; Kombo's jobs from its state), and gives the environment a `seek-sync`
process needs (`SEEK_SYNC_*` and `DAGSTER_HOME`) without touching this process's. Everything is
counted through the fakes' HTTP APIs. Used by `seek-sync bench` and the crash tests.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from seek_sync.child_signals import default_stop_signals, stop_child
from seek_sync.dagster_instance import INSTANCE_ENV, make_home
from seek_sync.local_stack import (
    mark_on_demand,
    patched_environ,
    proxy_values,
    stack_environment,
    target_entries,
)
from seek_sync.proxy.process import proxy_if
from seek_sync.receiver.config import receiver_environment
from seek_sync.settings import ENV_PREFIX

if TYPE_CHECKING:
    import dagster as dg


PORTS_FROM = 20000  # free_port picks from here up to the kernel's ephemeral range


def _ephemeral_low() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="ascii")
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port() -> int:
    """A loopback port free now, for a process started next to listen on. Picked below the
    kernel's ephemeral range: a port from bind(0) is one the kernel also hands to outgoing
    connections (PostgreSQL, HTTP), which can hold it by the time the process binds it (a code
    server once failed so: "Address already in use")."""
    high, pick = _ephemeral_low() - 1, random.SystemRandom()
    for _ in range(100 if high > PORTS_FROM else 0):
        port = pick.randint(PORTS_FROM, high)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ProcessStack:
    home: Path
    info: dict[str, Any]
    sandbox: subprocess.Popen[str]
    receiver_url: str
    env: dict[str, str]
    targets: dict[str, str]  # hirer -> target kind
    children: list[subprocess.Popen[str]] = field(default_factory=list)
    receiver_urls: list[str] = field(
        default_factory=list
    )  # every replica; the first is `receiver_url`
    receivers: list[subprocess.Popen[str]] = field(default_factory=list)  # one per replica

    @property
    def base_url(self) -> str:
        return str(self.info["base_url"])

    @contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        """The stack's Dagster instance, opened here with its `DAGSTER_PG_*` variables set (its
        file reads them on the server backend; they are in `env`, not in this process's)."""
        import dagster as dg

        variables = {k: v for k, v in self.env.items() if k in INSTANCE_ENV}
        home = self.env["DAGSTER_HOME"]
        with patched_environ(variables), dg.DagsterInstance.from_config(home) as instance:
            yield instance

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """A call to the sandbox's admin API (`/_sandbox/...`), answered as JSON."""
        response = httpx.request(method, self.base_url + path, json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def idle(self) -> bool:
        """No Onderwijsregio mutation or callback in flight at the fake."""
        return bool(self.admin("GET", "/_sandbox/ats/idle")["idle"])

    def wait_idle(self, seconds: float = 60.0) -> bool:
        deadline = time.monotonic() + seconds
        while not self.idle():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def ledger(self) -> dict[str, Any]:
        """What each ATS fake holds: candidates/applications, files, duplicates."""
        return self.admin("GET", "/_sandbox/ats/ledger")  # type: ignore[no-any-return]

    def seek_sync(
        self, *args: str, extra_env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.Popen[str]:
        """A `seek-sync` command as its own process, in this stack's environment (`extra_env`
        added) and working directory `cwd` (default: this process's)."""
        process = subprocess.Popen(
            [sys.executable, "-m", "seek_sync.cli", *args],
            env={**os.environ, **self.env, **(extra_env or {})},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=default_stop_signals,
        )
        self.children.append(process)
        return process


def receiver_process_environment(stack_env: dict[str, str]) -> dict[str, str]:
    """This process's environment without any `SEEK_SYNC_*` variable, plus only the receiver's
    own out of `stack_env`: the receiver process never holds a SEEK or ATS credential."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    return base | receiver_environment({**os.environ, **stack_env})


def _wait_http(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def start_receiver(folder: Path, url: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """`seek-sync receiver serve` on `url`'s port, with `folder` as its working and temporary
    folder (so replicas share nothing on disk but what the settings name)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = url.rsplit(":", 1)[1]
    own = {"TMPDIR": str(folder)}
    return subprocess.Popen(
        [sys.executable, "-m", "seek_sync.cli", "receiver", "serve", "--port", port],
        env=receiver_process_environment(env) | own,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=default_stop_signals,
    )


def write_hirer_map(
    base_url: str,
    info: dict[str, Any],
    path: Path,
    kinds: tuple[str, ...],
    *,
    on_demand: bool = False,
) -> dict[str, str]:
    """Every related sandbox hirer, given a target kind in turn; Kombo hirers get every Kombo job
    (the sandbox's job references are unique across hirers). `on_demand`: the last hirer of each
    kind is on demand."""
    summary = httpx.get(f"{base_url}/_sandbox/summary", timeout=30).json()
    kombo = httpx.get(f"{base_url}/_sandbox/kombo/state", timeout=30).json()
    jobs = {job["remote_id"]: job["id"] for job in kombo["jobs"] if job.get("remote_id")}
    related = sorted(h["id"] for h in summary["hirers"] if h["relationship"])
    entries = target_entries(related, kinds, info["kombo_integration_id"], lambda _: jobs)
    if on_demand:
        mark_on_demand(entries)
    path.write_text(yaml.safe_dump({"hirers": entries}), encoding="utf-8")
    return {h: e["target"] for h, e in entries.items()}


@contextmanager
def process_stack(
    home: Path,
    *sandbox_options: str,
    kinds: tuple[str, ...] = ("onderwijsregio", "kombo"),
    extra_env: dict[str, str] | None = None,
    on_demand: bool = False,
    receivers: int = 1,
) -> Iterator[ProcessStack]:
    """The sandbox (with `sandbox_options`) and the receiver as processes; stopped on exit.
    `on_demand`: the last hirer of each kind on demand, and the attachment proxy running.
    `receivers`: how many receiver replicas (the embedded inbox is then shared on this machine)."""
    if receivers < 1:
        raise ValueError("receivers must be at least 1")
    home.mkdir(parents=True, exist_ok=True)
    sandbox = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seek_sync.cli",
            "sandbox",
            "serve",
            "--port",
            "0",
            *sandbox_options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=default_stop_signals,
    )
    processes, stack = [sandbox], None
    try:
        info = json.loads(sandbox.stdout.readline())  # type: ignore[union-attr]
        path = home / "hirer-targets.yaml"
        targets = write_hirer_map(info["base_url"], info, path, kinds, on_demand=on_demand)
        port = free_port()
        receiver_url = f"http://127.0.0.1:{port}"
        env = stack_environment(info, home, receiver_url) | (extra_env or {})
        # A new sandbox, a fresh Dagster instance (on the server backend, its schema dropped).
        instance = make_home(home / "dagster", {**os.environ, **env}, fresh=True)
        env = {**env, **instance, **(extra_env or {})}
        receiver_urls = [receiver_url]
        receiver_urls += [f"http://127.0.0.1:{free_port()}" for _ in range(receivers - 1)]
        for number, url in enumerate(receiver_urls):
            processes.append(start_receiver(home / f"receiver-{number}", url, env))
        for url in receiver_urls:
            _wait_http(url + "/webhooks/seek")
        with proxy_if(proxy_values(env) if on_demand else None) as proxy_env:
            env |= proxy_env
            stack = ProcessStack(home, info, sandbox, receiver_url, env, targets)
            stack.receiver_urls = receiver_urls
            stack.receivers = processes[1:]
            yield stack
    finally:
        processes += stack.children if stack else []
        for process in reversed(processes):
            if process.poll() is None:
                stop_child(process, grace=10)
