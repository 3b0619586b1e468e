"""A running local cluster, read from outside: its state file and environment, the sandbox's
admin API, its Dagster instance, its state store; and whether it has settled.

Settled means: no run queued or in progress, every application SEEK holds for a mapped hirer is
in the inbox, every such hirer has been through a run and none is due or waiting for an ATS
callback, nothing is journaled unmerged, and the ATS fakes have nothing in flight.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import dagster as dg
import httpx

from seek_sync.ats.targets import TargetMap
from seek_sync.backend import open_inbox
from seek_sync.cluster.config import ClusterState, load_environment
from seek_sync.cluster.health import ClusterError
from seek_sync.cluster.roles import MAP_ENV, instance_variables
from seek_sync.local_stack import patched_environ
from seek_sync.pipeline.hirers import removed_hirers
from seek_sync.process_stack import ProcessStack
from seek_sync.runstate.journal import Journal
from seek_sync.runstate.ledger import Ledger
from seek_sync.settings import ENV_PREFIX, HomeFields, SettingsBase, load

S = TypeVar("S", bound=SettingsBase)
ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
APPLICATION = "CandidateApplicationCreated"


@dataclass
class RunningCluster:
    state: ClusterState
    env: dict[str, str]  # the run processes' settings and the instance's variables

    @classmethod
    def at(cls, home: Path) -> RunningCluster:
        state = ClusterState.load(home.resolve())
        if state is None:
            raise ClusterError(f"no cluster recorded in {home}: `seek-sync cluster up` first")
        return cls(state, load_environment(state.home))

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """A call to the sandbox's admin API (`/_sandbox/...`), answered as JSON."""
        answer = httpx.request(method, self.state.sandbox_url + path, json=body, timeout=60)
        answer.raise_for_status()
        return answer.json()

    @contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        """The cluster's Dagster instance, opened with its variables (not this process's)."""
        with (
            patched_environ(instance_variables(self.env)),
            dg.DagsterInstance.from_config(self.env["DAGSTER_HOME"]) as instance,
        ):
            yield instance

    @contextmanager
    def s3_credentials(self) -> Iterator[None]:
        """This process's environment holding the cluster's S3 credentials (moto's), which
        s3fs reads from the environment, while the blob store is opened and read."""
        with patched_environ({k: v for k, v in self.env.items() if k.startswith("AWS_")}):
            yield

    def settings(self, model: type[S]) -> S:
        """One role's settings from the cluster's environment."""
        given = {
            k.removeprefix(ENV_PREFIX).lower(): v
            for k, v in self.env.items()
            if k.startswith(ENV_PREFIX)
        }
        return load(model, **{k: v for k, v in given.items() if k in model.model_fields})

    def targets(self) -> TargetMap:
        return TargetMap.load(Path(self.env[MAP_ENV]))

    def idle(self) -> bool:
        return bool(self.admin("GET", "/_sandbox/ats/idle")["idle"])

    def as_stack(self) -> ProcessStack:
        """The cluster as code that reads a `ProcessStack` reads it (the crash tests' audit, the
        trickle bench): the sandbox's admin API, the first receiver, the hirer map, the settings
        and the Dagster home. It holds no process: the cluster's are not this process's children."""
        targets = {h: e.target for h, e in self.targets().hirers.items()}
        info = {"base_url": self.state.sandbox_url}
        sandbox = cast(subprocess.Popen[str], None)
        home, receiver = self.state.home, self.state.receiver_urls[0]
        return ProcessStack(home, info, sandbox, receiver, self.env, targets)


def unsettled(cluster: RunningCluster, instance: dg.DagsterInstance) -> list[str]:
    """What keeps the cluster from being settled, one short line each (none: settled)."""
    active = instance.get_runs_count(dg.RunsFilter(statuses=ACTIVE))
    if active:
        return [f"{active} run(s) queued or in progress"]
    mapped = set(cluster.targets().hirers)
    summary = cluster.admin("GET", "/_sandbox/summary")
    want = {h["id"]: h["applications"] for h in summary["hirers"]}
    want = {h: n for h, n in want.items() if h in mapped and n}
    inbox = open_inbox(cluster.settings(HomeFields))
    try:
        rows = inbox.read(
            "SELECT hirer_id, COUNT(*) AS n FROM events WHERE type_code = ? GROUP BY hirer_id",
            (APPLICATION,),
        )
        have = {r["hirer_id"]: int(r["n"]) for r in rows}
        missing = sum(max(n - have.get(h, 0), 0) for h, n in want.items())
        ledger = Ledger(inbox)
        work = ledger.rows()
        due = {d.hirer_id for d in ledger.due(exclude=removed_hirers(inbox))}
        waiting = {h for h, w in work.items() if int(w.owed.get("waiting", 0) or 0)}
        journaled = Journal(inbox).pending()
    finally:
        inbox.close()
    found = [f"{missing} application(s) not in the inbox yet"] if missing else []
    unrun = set(want) - set(work)
    found += [f"{len(unrun)} hirer(s) never run"] if unrun else []
    found += [f"{len(due)} hirer(s) due"] if due else []
    found += [f"{len(waiting)} hirer(s) waiting for callbacks"] if waiting else []
    found += [f"{journaled} journal row(s) unmerged"] if journaled else []
    if not found and not cluster.idle():
        found.append("the ATS fakes finishing")
    return found


def wait_settled(
    cluster: RunningCluster,
    instance: dg.DagsterInstance,
    seconds: float,
    on_progress: Callable[[str], None] = lambda _: None,
    every: float = 1.0,
) -> float:
    """Until the cluster has settled; the seconds it took. `ClusterError` after `seconds`."""
    started = time.monotonic()
    while found := unsettled(cluster, instance):
        waited = time.monotonic() - started
        on_progress(f"{' · '.join(found)} · {waited:.0f} s")
        if waited > seconds:
            raise ClusterError(f"not settled after {seconds:.0f} s: {'; '.join(found)}")
        time.sleep(every)
    return time.monotonic() - started
