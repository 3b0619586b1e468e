"""`seek-sync dev` as a real process group on free ports, and the Dagster GraphQL API it serves.

The command runs from the project root with its own home (`--home`), a free UI port (`--port`; the
sandbox and the receiver pick free ports themselves) and no `SEEK_SYNC_*` or `DAGSTER_HOME` of
ours. It starts `dagster dev` (webserver, daemon, code server; run processes later), all in the
process group the command leads, so stopping it is one SIGINT to the group and, after a grace
period, one SIGKILL to whatever is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import httpx
import psutil
import yaml

from seek_sync.local_stack import PROJECT_ROOT
from seek_sync.process_stack import free_port
from seek_sync.settings import ENV_PREFIX
from tests.browser.queries import CHECKS, EXECUTIONS, LATEST, LOCATIONS, PARTITIONS, RUNS

T = TypeVar("T")
SEEK_SYNC = str(Path(sys.executable).parent / "seek-sync")
ACTIVE = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"}
BANNER = re.compile(r"^sandbox (\S+)\s+receiver (\S+)", re.MULTILINE)
# A rejected or failed upload's reason as the checks count it: "<state>: <reason>".
REASON = re.compile(r"^(rejected|failed): \S")


class StackError(AssertionError):
    """The stack did not come up or behave; the message ends with the tail of its log."""


@dataclass(frozen=True)
class FailedCheck:
    check: str
    partition: str | None
    run_id: str
    reasons: frozenset[str]


@dataclass
class DevStack:
    process: subprocess.Popen[bytes]
    home: Path
    log: Path
    ui_url: str
    sandbox_url: str = ""
    started: float = field(default_factory=time.monotonic)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def fail(self, message: str) -> StackError:
        return StackError(f"{message}\n--- seek-sync dev log (tail) ---\n{self.log_tail()}")

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{self.ui_url}/graphql", json={"query": query, "variables": variables}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise self.fail(f"GraphQL errors: {body['errors']}")
        return body["data"]  # type: ignore[no-any-return]

    def wait(self, what: str, seconds: float, probe: Callable[[], T | None]) -> T:
        """`probe()` until it answers something truthy; fails if the command exits or time is up."""
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                raise self.fail(f"seek-sync dev exited ({self.process.returncode}) before {what}")
            with contextlib.suppress(httpx.HTTPError):  # not up yet, or restarting
                if found := probe():
                    return found
            if time.monotonic() > deadline:
                raise self.fail(f"no {what} after {seconds:.0f} s")
            time.sleep(0.5)

    def location_name(self) -> str:
        [entry] = self.graphql(LOCATIONS)["workspaceOrError"]["locationEntries"]
        return str(entry["name"])

    def location_loaded(self) -> bool:
        workspace = self.graphql(LOCATIONS)["workspaceOrError"]
        entries = workspace.get("locationEntries") or []
        for entry in entries:
            loaded = entry.get("locationOrLoadError") or {}
            if loaded.get("__typename") == "PythonError":
                raise self.fail(f"code location {entry['name']} failed to load: {loaded}")
        return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)

    def runs(self) -> list[dict[str, Any]]:
        return self.graphql(RUNS)["runsOrError"]["results"]  # type: ignore[no-any-return]

    def partition_keys(self, asset: str) -> list[str]:
        node = self.graphql(PARTITIONS, path=[asset])["assetNodeOrError"]
        return list(node.get("partitionKeys") or [])

    def settled(self) -> bool:
        """The sensor's first runs are done: hirer partitions exist, a batched run succeeded and
        no run is in flight. A failed run fails the test (with its id)."""
        runs = self.runs()
        failed = [f"{r['jobName']} {r['runId']}" for r in runs if r["status"] == "FAILURE"]
        if failed:
            raise self.fail(f"run(s) failed: {failed}")
        done = any(r["jobName"] == "hirer_batch" and r["status"] == "SUCCESS" for r in runs)
        busy = any(r["status"] in ACTIVE for r in runs)
        return done and not busy and bool(self.partition_keys("ats_uploads"))

    def hirer_keys(self) -> dict[str, str]:
        """SEEK hirer id -> partition key, from the stack's inbox (read-only)."""
        path = Path(self.environment()["SEEK_SYNC_HOME"]) / "inbox.sqlite3"
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return dict(db.execute("SELECT hirer_id, partition_key FROM hirer_keys").fetchall())

    def targets(self) -> dict[str, str]:
        """Hirer -> ATS kind, from the hirer map `seek-sync dev` wrote into its home."""
        entries = yaml.safe_load((self.home / "hirer-targets.yaml").read_text())["hirers"]
        return {hirer: entry["target"] for hirer, entry in entries.items()}

    def failed_checks(self, asset: str) -> list[FailedCheck]:
        """Every failing evaluation of `asset`'s checks that names a rejected/failed reason."""
        found: list[FailedCheck] = []
        checks = self.graphql(CHECKS, path=[asset])["assetNodeOrError"]["assetChecksOrError"]
        for check in checks.get("checks") or []:
            executions = self.graphql(EXECUTIONS, path=[asset], check=check["name"])
            for execution in executions["assetCheckExecutions"]:
                evaluation = execution.get("evaluation") or {}
                if evaluation.get("success") is not False:
                    continue
                reasons: set[str] = set()
                for entry in evaluation.get("metadataEntries") or []:
                    if "jsonString" in entry:
                        reasons |= reasons_in(json.loads(entry["jsonString"]))
                    elif "text" in entry:
                        reasons |= reasons_in(entry["text"])
                if reasons:
                    partition, run_id = execution.get("partition"), execution["runId"]
                    found.append(FailedCheck(check["name"], partition, run_id, frozenset(reasons)))
        return found

    def evaluations(self, asset: str, check: str) -> list[dict[str, Any]]:
        """The check's latest executions: partition, run, passed, metadata (label -> text)."""
        found = []
        for execution in self.graphql(EXECUTIONS, path=[asset], check=check)[
            "assetCheckExecutions"
        ]:
            evaluation = execution.get("evaluation") or {}
            metadata = {
                e["label"]: e.get("jsonString") or e.get("text") or ""
                for e in evaluation.get("metadataEntries") or []
            }
            found.append(execution | {"passed": evaluation.get("success"), "metadata": metadata})
        return found

    def latest_row_count(self, asset: str, partition: str) -> tuple[str, int]:
        """The partition's latest materialization: its run and `dagster/row_count`."""
        node = self.graphql(LATEST, path=[asset], partition=partition)["assetNodeOrError"]
        [latest] = node["assetMaterializations"]
        [count] = [
            e["intValue"] for e in latest["metadataEntries"] if e["label"] == "dagster/row_count"
        ]
        return str(latest["runId"]), int(count)

    def environment(self) -> dict[str, str]:
        """The settings `seek-sync dev` left a second shell (`<home>/env.sh`)."""
        found = {}
        for line in (self.home / "env.sh").read_text(encoding="utf-8").splitlines():
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").partition("=")
                found[key] = shlex.split(value)[0] if value else ""
        return found

    def seek_sync(self, *args: str) -> subprocess.Popen[str]:
        """A `seek-sync` command in a second shell of this stack."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
        return subprocess.Popen(
            [SEEK_SYNC, *args],
            cwd=PROJECT_ROOT,
            env=env | self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def warehouse(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """A read of the warehouse, retried while a run step holds its write lock."""
        path = Path(self.environment()["SEEK_SYNC_HOME"]) / "warehouse.duckdb"

        def read() -> list[list[tuple[Any, ...]]] | None:
            try:
                with duckdb.connect(str(path), read_only=True) as db:
                    return [db.execute(sql, list(params)).fetchall()]
            except duckdb.IOException:
                return None

        return self.wait("a read of the warehouse", 30, read)[0]

    def ledger_emails(self) -> set[str]:
        """Emails of the candidates/applications the ATS fakes hold (ours and Kombo's seeded)."""
        ledger = httpx.get(f"{self.sandbox_url}/_sandbox/ats/ledger", timeout=30).json()
        return set(re.findall(r'"email":\s*"([^"]+)"', json.dumps(ledger)))


def reasons_in(value: Any) -> set[str]:
    """Strings (keys or values, at any depth) shaped like a counted reason: "rejected: ..."."""
    if isinstance(value, str):
        return {value} if REASON.match(value) else set()
    if isinstance(value, dict):
        return set().union(*(reasons_in(k) | reasons_in(v) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(reasons_in(v) for v in value))
    return set()


def _default_signals() -> None:
    """In the child: Ctrl-C's default again (a shell starting pytest in the background ignores
    SIGINT, and an ignored signal stays ignored across exec)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_group(process: subprocess.Popen[bytes], grace: float = 30.0) -> list[str]:
    """SIGINT to the command's group, as Ctrl-C in a terminal; SIGKILL to every process of its
    tree still running after `grace` seconds (`dagster dev` runs in a group of its own). Returns
    what had to be killed: empty when Ctrl-C stopped everything."""
    tree: list[psutil.Process] = []
    with contextlib.suppress(psutil.NoSuchProcess):
        parent = psutil.Process(process.pid)
        tree = [parent, *parent.children(recursive=True)]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)  # start_new_session: the command leads its group
    _, alive = psutil.wait_procs(tree, timeout=grace)
    killed = [" ".join(p.cmdline()[:4]) for p in alive if p.is_running()]
    for survivor in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            survivor.kill()
    process.wait(timeout=10)
    return killed


@contextmanager
def dev_stack(home: Path, log: Path) -> Iterator[DevStack]:
    """`seek-sync dev --home HOME --port <free>` until the code location is loaded."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.pop("DAGSTER_HOME", None)
    env["PYTHONUNBUFFERED"] = "1"  # the banner reaches the log before `dagster dev` starts
    command = [SEEK_SYNC, "dev", "--home", str(home), "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_default_signals,
        )
    try:
        stack = DevStack(process, home, log, f"http://127.0.0.1:{port}")
        banner = stack.wait("banner", 60, lambda: BANNER.search(log.read_text(errors="replace")))
        stack.sandbox_url = banner.group(1)
        stack.wait("loaded code location", 90, stack.location_loaded)
        yield stack
    finally:
        killed = stop_group(process)
    assert not killed, f"Ctrl-C left these running {killed}"
