"""Many holders, many machines: claims are disjoint across processes, a run that lost a lease
cannot write afterwards, and (on the server) a holder lives exactly while its connection does."""

from __future__ import annotations

import multiprocessing
import random
import signal
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

import pytest

from seek_sync.db.postgres import PostgresDatabase
from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.journal import Journal
from seek_sync.runstate.leases import LeaseLost, Leases
from seek_sync.runstate.ledger import Backoff, Ledger, Owed
from seek_sync.runstate.processes import Holder
from tests.backends import Backend
from tests.inboxes import inbox_of
from tests.services import database_url, private_database

HIRERS = [f"seekAnzPublicTest:organization:seek:H{n:03d}" for n in range(40)]
H1, H2 = HIRERS[:2]


def upload(hirer_id: str, attachment_id: str) -> dict[str, object]:
    return {
        "attachment_id": attachment_id,
        "target": "kombo",
        "hirer_id": hirer_id,
        "state": "accepted",
        "attempts": 1,
        "outcome_unknown": False,
        "updated_at": datetime.now(UTC),
    }


def test_a_run_that_lost_its_lease_cannot_write_afterwards(backend: Backend) -> None:
    inbox = inbox_of(backend)
    leases = Leases(inbox, stale_after_seconds=0.2)
    remote = Holder(1, 0.0, "another-host")  # judged by its heartbeat alone
    assert leases.claim([H1, H2], "run-a", remote) == [H1, H2]
    journal = Journal(inbox)
    journal.fence = lambda conn, hirers: leases.fence(conn, "run-a", hirers)
    journal.record("ats_uploads", [upload(H1, "a1")])  # held: written
    time.sleep(0.3)  # run-a stops beating; run-b takes H1 over
    assert leases.claim([H1], "run-b", leases.me()) == [H1]
    with pytest.raises(LeaseLost):
        journal.record("ats_uploads", [upload(H2, "a2"), upload(H1, "a3")])
    assert journal.pending() == 1  # nothing of the fenced write was kept
    journal.record("ats_uploads", [upload(H2, "a4")])  # H2 is still run-a's
    assert journal.pending() == 2
    ledger = Ledger(inbox)
    with pytest.raises(LeaseLost):
        ledger.finish(
            ledger.row(H1),
            run_id="run-a",
            owed=Owed(),
            error=None,
            confirm_timeout=60,
            backoff=Backoff(),
            fence=journal.fence,
        )
    assert ledger.row(H1).last_run_id is None


# --- two processes claiming at once ---------------------------------------------------------


def _claimer(inbox: Inbox, seed: int, ready: Any, go: EventType, done: EventType) -> None:
    try:
        leases = Leases(inbox)
        order = HIRERS[:]
        random.Random(seed).shuffle(order)
        ready.put(("ready", None))
        go.wait(60)
        taken: list[str] = []
        for start in range(0, len(order), 4):
            taken += leases.claim_run(order[start : start + 4], f"run-{seed}")
            time.sleep(0.005)
        ready.put((seed, taken))
        done.wait(60)  # hold on: a dead claimer's hirers would be free again
    except BaseException:
        ready.put((seed, traceback.format_exc()))


def test_two_processes_claim_disjoint_hirers(backend: Backend) -> None:
    inbox = inbox_of(backend)
    ctx = multiprocessing.get_context("spawn")
    out, go, done = ctx.Queue(), ctx.Event(), ctx.Event()
    processes = [ctx.Process(target=_claimer, args=(inbox, s, out, go, done)) for s in (1, 2)]
    for process in processes:
        process.start()
    try:
        assert [out.get(timeout=60)[0] for _ in processes] == ["ready", "ready"]
        go.set()
        results = dict(out.get(timeout=60) for _ in processes)
    finally:
        done.set()
        for process in processes:
            process.join(timeout=30)
    assert all(isinstance(r, list) for r in results.values()), results
    first, second = set(results[1]), set(results[2])
    assert first.isdisjoint(second) and first | second == set(HIRERS)
    assert first and second, "one claimer never competed"  # both took part
    print(f"\n{backend.name}: claimers took {len(first)} and {len(second)} of {len(HIRERS)}")


# --- presence on the server -----------------------------------------------------------------

HOLD = (
    "import sys; from seek_sync.db.postgres import PostgresDatabase; "
    "from seek_sync.runstate.inbox import Inbox; from seek_sync.runstate.leases import Leases; "
    "db = PostgresDatabase.shared(sys.argv[1], 'seek_sync'); "
    "print(Leases(Inbox(db)).me().presence, flush=True); "
    "sys.stdin.read()"
)


def test_a_remote_holder_lives_exactly_while_its_connection_does(tmp_path: Path) -> None:
    with private_database() as name:
        url = database_url(name)
        leases = Leases(Inbox(PostgresDatabase(url, "seek_sync")), stale_after_seconds=3600)
        child = subprocess.Popen(
            [sys.executable, "-c", HOLD, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            token = child.stdout.readline().strip()  # type: ignore[union-attr]
            remote = Holder(1, 0.0, "another-host", presence=token)  # no pid to judge by
            assert leases.claim([H1], "run-a", remote) == [H1]
            assert leases.claim([H1], "run-b", leases.me()) == []  # present: still held
            assert leases.me().presence != token
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        deadline = time.monotonic() + 20
        while not (taken := leases.claim([H1], "run-b", leases.me())):
            assert time.monotonic() < deadline, "the dead holder's lock outlived its process"
            time.sleep(0.1)
        assert taken == [H1]  # heartbeat still fresh: only its presence told it was gone
        leases.inbox.close()
