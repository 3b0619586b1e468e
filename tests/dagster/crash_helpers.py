"""Helpers for crash tests: kill points at the fakes, driving `seek-sync` processes to settled,
and the exactly-once audit counted through the fakes' own APIs and the warehouse (the stack's
DuckDB file, or its PostgreSQL schema when the stack is on the server backend)."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import dagster as dg

from seek_sync.backend import open_blobs, open_inbox, open_warehouse
from seek_sync.process_stack import ProcessStack
from seek_sync.settings import ENV_PREFIX, BlobFields, WarehouseFields, load
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Warehouse
from seek_sync.testhooks import KILL_AT_ENV, MERGE_BEFORE_COMMIT

# Endpoint -> how many matching calls to let through first. The fake applies the call's effect,
# SIGKILLs the given pid, and drops the connection: the client never hears of the effect.
KILL_POINTS = {
    "attachment": 2,  # half-way through a download
    "onderwijsregio.create": 1,
    "kombo.add_attachment": 2,
    "onderwijsregio.attachments": 0,
}
MERGE = "warehouse merge"  # SIGKILL inside a merge, after the rows are written, before COMMIT
RUNS = re.compile(r"runs: (\d+) ok, (\d+) failed")

Start = Callable[[dict[str, str]], list[subprocess.Popen[str]]]


def _overrides(stack: ProcessStack) -> dict[str, str]:
    """The stack's settings as keyword overrides (its environment is not this process's)."""
    env = stack.env.items()
    return {k[len(ENV_PREFIX) :].lower(): v for k, v in env if k.startswith(ENV_PREFIX)}


def warehouse_of(stack: ProcessStack) -> Warehouse:
    """The stack's warehouse, on whichever backend its settings choose."""
    return open_warehouse(load(WarehouseFields, **_overrides(stack)))


def blobs_of(stack: ProcessStack) -> BlobStore:
    return open_blobs(load(BlobFields, **_overrides(stack)))


@dataclass
class Killed:
    fired: dict[str, int] = field(default_factory=dict)  # kill point -> attempt it fired in
    exits: list[int | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # stderr tails of processes that failed
    attempts: int = 0


def kill_rules(stack: ProcessStack) -> set[str]:
    return {f["endpoint"] for f in stack.admin("GET", "/_sandbox/faults") if f["kind"] == "kill"}


def drive_with_kills(stack: ProcessStack, start: Start, *, attempts: int = 25) -> Killed:
    """Start `seek-sync` process(es) again and again, each time arming every kill point not yet
    fired for calls from those processes (the sandbox kills whichever of them makes the call);
    the first attempt's first process kills itself inside a warehouse merge instead. Until
    every point has fired once."""
    killed = Killed()
    for attempt in range(attempts):
        merge = MERGE not in killed.fired
        processes = start({KILL_AT_ENV: MERGE_BEFORE_COMMIT} if merge else {})
        victim = processes[0]
        stack.admin("DELETE", "/_sandbox/faults")
        pending = [p for p in KILL_POINTS if p not in killed.fired]
        if not merge:
            pids = [process.pid for process in processes]
            rules = [
                {"endpoint": p, "kind": "kill", "callers": pids, "skip": KILL_POINTS[p]}
                for p in pending
            ]
            stack.admin("POST", "/_sandbox/faults", rules)
        for process in processes:
            _, err = process.communicate(timeout=170)
            if process.returncode not in (0, -9):
                killed.errors.append(f"exit {process.returncode}: {err[-2000:]}")
        killed.exits += [process.returncode for process in processes]
        left = kill_rules(stack)
        stack.admin("DELETE", "/_sandbox/faults")
        if merge and victim.returncode == -9:
            killed.fired[MERGE] = attempt
        for point in pending:
            if not merge and point not in left:
                killed.fired[point] = attempt
        killed.attempts = attempt + 1
        stack.wait_idle()
        if len(killed.fired) == len(KILL_POINTS) + 1:
            break
    return killed


def sync_until_settled(
    stack: ProcessStack,
    ticks: int = 30,
    *,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """One-tick `seek-sync sync` processes (with `extra_env`, in `cwd`) until a tick runs
    nothing and the fakes are idle."""
    for tick in range(ticks):
        process = stack.seek_sync("sync", extra_env=extra_env, cwd=cwd)
        out, err = process.communicate(timeout=170)
        assert process.returncode in (0, 1), err[-3000:]
        found = RUNS.search(out)
        assert found, out + err[-3000:]
        print(f"settle tick {tick}: {out.strip()[-300:]}")  # shown with -s or on failure
        idle = stack.wait_idle()
        if found.group(1) == found.group(2) == "0" and idle:
            return tick + 1
    raise AssertionError(f"not settled after {ticks} ticks")


@dataclass
class Audit:
    problems: list[str]
    counts: dict[str, int]


def _fake_files(ledger: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        "onderwijsregio": [f for f in ledger["onderwijsregio"]["files"] if not f["sandbox"]],
        "kombo": [f for f in ledger["kombo"]["files"] if not f["seeded"]],
    }


def audit_duplicates(stack: ProcessStack, ledger: dict[str, Any] | None = None) -> list[str]:
    """A person held twice at a fake, or a stored file sent more often than we confirmed it
    (the fakes' own seeded data aside). Two applications may carry files with the same bytes
    (a person sends one résumé to two hirers of one tenant): so files are compared as a
    multiset of SHA-256s against our confirmed uploads, not by (owner, hash) pairs."""
    ledger = ledger or stack.ledger()
    problems = []
    people = {"onderwijsregio": "emails", "kombo": "applications"}
    for kind, name in people.items():
        real = [d for d in ledger[kind]["duplicates"][name] if not d.get("sandbox")]
        real = [d for d in real if not d.get("seeded")]
        if real:
            problems.append(f"{kind}: duplicate {name}: {real[:3]}")
    with warehouse_of(stack).session() as db:
        confirmed = db.rows(
            "SELECT u.target, f.sha256 FROM ats_uploads u JOIN attachment_files f "
            "USING (attachment_id) WHERE u.state = 'confirmed'"
        )
    for kind, files in _fake_files(ledger).items():
        at_fake = Counter(f["sha256"] for f in files)
        ours = Counter(sha for target, sha in confirmed if target == kind)
        extra = at_fake - ours  # what is missing at a fake, `audit` counts
        if extra:
            problems.append(f"{kind}: files held more often than we confirmed: {dict(extra)}")
    return problems


def audit(stack: ProcessStack) -> Audit:
    """Every applicant and stored file at its fake exactly once, nothing left half-done."""
    ledger = stack.ledger()
    files = _fake_files(ledger)
    problems = audit_duplicates(stack, ledger)
    with warehouse_of(stack).session() as db:
        uploads = dict(
            db.rows("SELECT target || ':' || state, COUNT(*) FROM ats_uploads GROUP BY 1")
        )
        open_files = db.scalar(
            "SELECT COUNT(*) FROM attachment_files f JOIN attachment_manifest m "
            "USING (attachment_id) LEFT JOIN ats_uploads u USING (attachment_id) "
            "WHERE f.status IN ('stored', 'on_demand') AND (u.state IS NULL OR u.state NOT IN "
            "('confirmed', 'rejected', 'failed') OR u.state IN ('rejected', 'failed') "
            "AND u.last_error IS NULL)"
        )
        profiles = dict(
            db.rows(
                "SELECT hirer_id, COUNT(*) FROM candidate_profiles WHERE status = 'ok' GROUP BY 1"
            )
        )
        ats_ids = Counter(
            f"{target}:{ats_id}"
            for target, ats_id in db.rows(
                "SELECT target, ats_id FROM ats_candidates WHERE state = 'exists'"
            )
        )
    for kind in ("onderwijsregio", "kombo"):
        confirmed = uploads.get(f"{kind}:confirmed", 0)
        if confirmed != len(files[kind]):
            problems.append(
                f"{kind}: {confirmed} confirmed uploads, the fake holds {len(files[kind])}"
            )
        owners = {f["owner"] for f in files[kind]}
        ours = {key.split(":", 1)[1] for key in ats_ids if key.startswith(kind + ":")}
        if kind == "onderwijsregio" and owners - ours:
            problems.append(f"{kind}: files on candidates we never recorded: {owners - ours}")
    if open_files:
        problems.append(
            f"{open_files} stored file(s) not confirmed, nor rejected or failed with a reason"
        )
    summary = stack.admin("GET", "/_sandbox/summary")
    for hirer in summary["hirers"]:
        if hirer["id"] in stack.targets and profiles.get(hirer["id"], 0) != hirer["applications"]:
            problems.append(
                f"{hirer['id']}: {profiles.get(hirer['id'], 0)} profiles stored, "
                f"SEEK has {hirer['applications']} applications"
            )
    counts = {kind: len(found) for kind, found in files.items()} | {
        "profiles": sum(profiles.values())
    }
    return Audit(problems, counts)


def leftovers(stack: ProcessStack) -> list[str]:
    """Runs left STARTED, pool slots held, journal rows unmerged, half-written blobs."""
    found = []
    with stack.instance() as instance:
        statuses = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]
        started = instance.get_runs(dg.RunsFilter(statuses=statuses))
        found += [f"run {r.run_id} left {r.status.value}" for r in started]
        for pool in ("hirer_sync", "seek_api", "ats_api"):
            info = instance.event_log_storage.get_concurrency_info(pool)
            if info.claimed_slots:
                found.append(f"pool {pool}: {len(info.claimed_slots)} slot(s) held")
    inbox = open_inbox(load(WarehouseFields, **_overrides(stack)))
    rows = inbox.read("SELECT COUNT(*) AS n FROM journal")[0]["n"]
    if rows:
        found.append(f"{rows} journal row(s) never merged")
    blobs = blobs_of(stack)
    stored = blobs.fs.find(blobs.root) if blobs.fs.exists(blobs.root) else []
    half = [p for p in stored if "tmp" in p.removeprefix(blobs.root + "/").split("/")]
    found += [f"half-written blob {p.rsplit('/', 1)[-1]}" for p in half]
    return found


class Stopping:
    """A loop process that `communicate` stops (SIGTERM) once `grace` seconds have passed since
    it was wrapped and its last tick ran nothing, unless it died first; loops started together
    share one deadline. Not before an idle tick: during start-up its handler is not installed yet
    (SIGTERM kills it), and during a run Dagster's own handler fails the run. Its output is
    drained meanwhile, so a chatty loop never blocks on a full pipe."""

    def __init__(self, process: subprocess.Popen[str], grace: float = 25.0) -> None:
        self.process, self.pid = process, process.pid
        self.deadline = time.monotonic() + grace
        self.out: list[str] = []
        self.err: list[str] = []
        self.readers = [
            threading.Thread(target=_drain, args=(stream, lines), daemon=True)
            for stream, lines in ((process.stdout, self.out), (process.stderr, self.err))
        ]
        for reader in self.readers:
            reader.start()

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def communicate(self, timeout: float) -> tuple[str, str]:
        """Wait for the process to die or to be stopped; its stdout and stderr."""
        while self.process.poll() is None:
            now = time.monotonic()
            if (now > self.deadline and self.idle()) or now > self.deadline + timeout:
                self.process.terminate()
                self.process.wait(timeout=timeout)
                break
            time.sleep(0.1)
        for reader in self.readers:
            reader.join(timeout=10)
        return "".join(self.out), "".join(self.err)

    def idle(self) -> bool:
        """Whether the loop's last tick ran nothing (it now waits for its next tick)."""
        ticks = [found for line in self.out if (found := RUNS.search(line))]
        return bool(ticks) and ticks[-1].group(1) == ticks[-1].group(2) == "0"


def _drain(stream: IO[str] | None, lines: list[str]) -> None:
    for line in stream or ():
        lines.append(line)
