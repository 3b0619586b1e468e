"""Issue 17, end to end: four `seek-sync sync` processes over forty hirers of one shared
Onderwijsregio tenant, whose people applied to several of them: each person created once.

The sandbox runs as its own process with a world of 40 hirers, all mapped to the one
Onderwijsregio fake (one tenant), and at most 12 people, so most people applied to hirers that
different processes work. Each process's tick takes 10 of the hirers (`hirers_per_run`, one run
a tick). Finds at the fake are held until every process has one parked (or is done), then let go
together, and every create waits `LATENCY` seconds at the fake: creates of different processes
are in flight at once, which the test counts at the fake and requires. Counted through the
fake's own API: each person is one candidate, made by one create, and no two creates of one
person overlapped. The positive control runs the same race with the claims switched off
(`NO_CREATE_CLAIMS_ENV`): one person's creates overlap, and a person is created twice. On both
backends.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import IO

from seek_sync.process_stack import ProcessStack, process_stack
from seek_sync.sandbox.onderwijsregio_creates import CreateAttempts
from seek_sync.testhooks import NO_CREATE_CLAIMS_ENV
from tests.backends import Backend

PROCESSES, HIRERS, PEOPLE = 4, 40, 12
WORLD = (
    *("--applications", "48", "--hirers", str(HIRERS), "--people", str(PEOPLE)),
    *("--seed", "17", "--no-edge-cases", "--record-callers"),
)
SHARES = {"SEEK_SYNC_HIRERS_PER_RUN": str(HIRERS // PROCESSES), "SEEK_SYNC_RUNS_PER_TICK": "1"}
LATENCY = 2.0  # seconds each create waits at the fake before it is accepted
CREATE_LATENCY = {
    "endpoint": "onderwijsregio.create",
    "kind": "latency",
    "delay": LATENCY,
    "times": None,
}

# dagster-instance.yaml lets two steps of a pool run at once, across runs: here each process's
# run (its one `sync_hirers` step) gets a slot, as an operator running four syncs would set.
POOLS = ("hirer_sync",)
# On a loaded machine the four processes reach their ATS push up to a minute or two apart: each
# find at the fake is held until every process has one parked (or is done), so that their pushes
# start together; meanwhile the client waits for its answer instead of timing out.
HOLD_SECONDS = 180.0
HOLD_FINDS = {
    "endpoint": "onderwijsregio.find",
    "kind": "hold",
    "delay": HOLD_SECONDS,
    "times": None,
}
SLOW_FINDS = {
    "SEEK_SYNC_HTTP_READ_TIMEOUT_SECONDS": str(HOLD_SECONDS + 30),
    "SEEK_SYNC_RETRY_DEADLINE_SECONDS": str(HOLD_SECONDS + 60),
}


@dataclass
class Race:
    people: int  # distinct applicants in the world
    at_several: int  # of them, people who applied to more than one hirer
    candidates: Counter[str]  # email -> candidates the fake holds (its production store)
    creates: CreateAttempts
    lined_up: int  # processes with finds parked when they were let go together
    waited: float  # seconds from the syncs' start until they were let go
    pids: int  # processes whose creates reached the fake
    seconds: float

    @property
    def created(self) -> Counter[str]:
        """email -> creates that made a candidate (a replayed key makes none)."""
        live = [a for a in self.creates.attempts if not a.replayed and a.status == "succeeded"]
        return Counter(email for attempt in live for email in attempt.emails)

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.candidates.values() if n > 1)


class Sync:
    """A one-tick `seek-sync sync` process whose output is read as it comes (no pipe fills)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process, self.out, self.err = process, list[str](), list[str]()
        for stream, into in ((process.stdout, self.out), (process.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, into), daemon=True).start()

    @staticmethod
    def _read(stream: IO[str] | None, into: list[str]) -> None:
        for line in stream or []:
            into.append(line)
            del into[:-300]

    def done(self) -> bool:
        return self.process.poll() is not None


def race(stack: ProcessStack, extra_env: dict[str, str]) -> Race:
    """Four one-tick syncs started at once, each polling SEEK and taking 10 hirers; their
    finds at the fake held until each process has one parked (or is done), then let go together;
    counted at the fake once it is idle."""
    assert len(stack.targets) == HIRERS and set(stack.targets.values()) == {"onderwijsregio"}
    summary = stack.admin("GET", "/_sandbox/summary")
    with stack.instance() as instance:  # four pushes at once: a slot of each pool for each
        for pool in POOLS:
            instance.event_log_storage.set_concurrency_slots(pool, PROCESSES)
    stack.admin("POST", "/_sandbox/faults", [HOLD_FINDS, CREATE_LATENCY])
    started = time.monotonic()
    syncs = [Sync(stack.seek_sync("sync", extra_env=SLOW_FINDS | extra_env)) for _ in "abcd"]

    def lined_up() -> bool:
        parked = set(stack.admin("GET", "/_sandbox/faults/held")["callers"])
        return all(s.process.pid in parked or s.done() for s in syncs)

    deadline = time.monotonic() + HOLD_SECONDS
    while not lined_up() and time.monotonic() < deadline:
        time.sleep(0.25)
    held = stack.admin("GET", "/_sandbox/faults/held")
    stack.admin("POST", "/_sandbox/faults/release")
    waited = time.monotonic() - started
    for sync in syncs:
        sync.process.wait(timeout=200)
    seconds = time.monotonic() - started
    for sync in syncs:
        out, err = "".join(sync.out), "".join(sync.err)
        assert sync.process.returncode == 0, out[-2000:] + err[-3000:]
        assert f"hirers synced: {HIRERS // PROCESSES};" in out, out  # each its share
    assert stack.wait_idle(60)
    ledger = stack.ledger()["onderwijsregio"]
    candidates = Counter(
        str(c["email"]).casefold() for c in ledger["candidates"] if not c["sandbox"]
    )
    creates = CreateAttempts.model_validate(stack.admin("GET", "/_sandbox/onderwijsregio/creates"))
    return Race(
        people=summary["people"],
        at_several=summary["people_at_several_hirers"],
        candidates=candidates,
        creates=creates,
        lined_up=len(held["callers"]),
        waited=waited,
        pids=len({a.pid for a in creates.attempts if a.pid is not None}),
        seconds=seconds,
    )


def report(name: str, backend: Backend, result: Race) -> None:
    c = result.creates
    print(
        f"\n{name} [{backend.name}]: {result.people} people ({result.at_several} at several "
        f"hirers), {result.lined_up} processes lined up, {len(c.attempts)} creates from "
        f"{result.pids} processes, overlapping "
        f"{c.overlapping} (across processes {c.overlapping_across_processes}, same person "
        f"{c.overlapping_same_person}), duplicates {result.duplicates}; let go after "
        f"{result.waited:.0f} s, done after {result.seconds:.0f} s"
    )
    spans: dict[int | None, list[float]] = {}
    zero = min((a.started for a in c.attempts), default=0.0)
    for a in c.attempts:
        spans.setdefault(a.pid, []).extend([a.started - zero, (a.ended or a.started) - zero])
    for pid, times in spans.items():
        print(f"  pid {pid}: {len(times) // 2} creates, {min(times):.1f}..{max(times):.1f} s")


def test_four_processes_create_each_person_of_a_shared_tenant_once(
    backend: Backend,
) -> None:
    with process_stack(
        backend.home, *WORLD, kinds=("onderwijsregio",), extra_env=backend.env | SHARES
    ) as stack:
        result = race(stack, {})
    report("claims", backend, result)
    assert result.at_several >= PEOPLE // 2  # the world shares people across hirers
    assert result.lined_up >= 2 and result.pids >= 2  # processes competed for the tenant ...
    assert result.creates.overlapping_across_processes > 0  # ... with creates in flight at once
    assert result.duplicates == 0, result.candidates
    assert set(result.candidates) == set(result.created)  # every candidate by one create
    assert len(result.candidates) == result.people  # every person is a candidate ...
    assert set(result.candidates.values()) == {1}  # ... once
    assert set(result.created.values()) == {1}  # created by one create
    assert result.creates.overlapping_same_person == 0


def test_without_the_claims_a_person_is_created_twice(backend: Backend) -> None:
    """The positive control: the same race with the claims switched off fails as it should."""
    with process_stack(
        backend.home, *WORLD, kinds=("onderwijsregio",), extra_env=backend.env | SHARES
    ) as stack:
        result = race(stack, {NO_CREATE_CLAIMS_ENV: "1"})
    report("no claims", backend, result)
    assert result.creates.overlapping_same_person > 0  # one person's creates in flight at once
    assert result.duplicates > 0  # and so a person created twice
    assert max(result.created.values()) > 1
