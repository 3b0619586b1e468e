"""The inbox on both backends: dedupe, atomic cursor, ordering, moved hirers, concurrent writer
processes (a reader never passes a seq that commits later)."""

from __future__ import annotations

import itertools
import multiprocessing
import pickle
import random
import time
import traceback
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from queue import Empty
from typing import Any

import pytest

from seek_sync.db.database import SqliteDatabase
from seek_sync.runstate.inbox import UNKNOWN_HIRER, HirerPending, Inbox, InboxCallback, InboxEvent
from tests.backends import Backend
from tests.inboxes import inbox_of


def hirer_id(token: str) -> str:
    return f"seekAnzPublicTest:organization:seek:{token}"


def event(n: int, hirer: str = "H1", source: str = "poll", **extra: Any) -> InboxEvent:
    return InboxEvent(
        event_id=f"ev-{n}",
        type_code="CandidateApplicationCreated",
        source=source,  # type: ignore[arg-type]
        hirer_id=hirer if hirer == UNKNOWN_HIRER else hirer_id(hirer),
        profile_id=f"prof-{n}",
        candidate_id=f"cand-{n}",
        created_at="2026-01-01T00:00:00.000Z",
        raw={"id": f"ev-{n}", "n": n, **extra},
    )


@pytest.fixture
def inbox(backend: Backend) -> Inbox:
    return inbox_of(backend)


def ids(rows: list[Any]) -> list[str]:
    return [r.event_id for r in rows]


def test_creates_parent_dirs_in_wal_mode(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "nested" / "dir" / "inbox.sqlite3")
    assert isinstance(inbox.database, SqliteDatabase) and inbox.database.path.exists()
    conn = inbox.database._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000


def test_a_new_inbox_is_empty(inbox: Inbox) -> None:
    assert inbox.counts() == {"events": 0, "callbacks": 0, "unknown_hirer": 0}
    assert inbox.max_seq() == 0 and inbox.get_cursor("seek") is None


def test_dedupe_by_event_id(inbox: Inbox) -> None:
    assert inbox.add_events([event(1), event(2), event(1)]) == 2
    first = inbox.events_after(0)
    assert inbox.add_events([event(2, hirer="other", source="webhook"), event(3)]) == 1
    assert inbox.add_events([]) == 0
    rows = inbox.events_after(0)
    assert ids(rows) == ["ev-1", "ev-2", "ev-3"]
    assert rows[:2] == first  # the replay changed nothing: same seq, hirer, source, raw
    assert rows[0].raw == {"id": "ev-1", "n": 1} and rows[0].source == "poll"
    assert rows[0].profile_id == "prof-1" and rows[0].candidate_id == "cand-1"


def test_cursor_is_saved_with_its_events(inbox: Inbox) -> None:
    assert inbox.add_events([event(1)], cursor=("seek", "c1")) == 1
    assert inbox.get_cursor("seek") == "c1"
    assert inbox.add_events([event(1)], cursor=("seek", "c2")) == 0  # nothing new, cursor moves
    assert inbox.get_cursor("seek") == "c2"
    assert inbox.get_cursor("other") is None


@pytest.mark.parametrize(
    "bad",
    [
        event(3, unserialisable=object()),  # fails while building the row
        event(3, source="carrier-pigeon"),  # fails inside SQLite (CHECK constraint)
        InboxEvent(event_id=None, type_code="T", source="poll"),  # type: ignore[arg-type]
    ],
    ids=["raw", "source", "null-id"],
)
def test_a_bad_row_mid_batch_stores_neither_events_nor_cursor(
    inbox: Inbox, bad: InboxEvent
) -> None:
    inbox.add_events([event(1)], cursor=("seek", "before"))
    with pytest.raises(Exception):  # noqa: B017 - whatever the row's fault, nothing is kept
        inbox.add_events([event(2), event(4), bad, event(5)], cursor=("seek", "after"))
    assert ids(inbox.events_after(0)) == ["ev-1"]
    assert inbox.get_cursor("seek") == "before"
    assert inbox.add_events([event(2)], cursor=("seek", "after")) == 1  # still writable


def test_events_after_is_ascending_and_limited(inbox: Inbox) -> None:
    inbox.add_events([event(n) for n in (5, 3, 9)])
    inbox.add_events([event(1), event(7)])
    rows = inbox.events_after(0)
    assert ids(rows) == ["ev-5", "ev-3", "ev-9", "ev-1", "ev-7"]  # arrival order, not id order
    seqs = [r.seq for r in rows]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert ids(inbox.events_after(seqs[1], limit=2)) == ["ev-9", "ev-1"]
    assert inbox.events_after(seqs[-1]) == []
    assert inbox.max_seq() == seqs[-1]


def test_pending_per_hirer(inbox: Inbox) -> None:
    inbox.add_events([event(1, "a"), event(2, "b"), event(3, "a")])
    mark = inbox.max_seq()
    inbox.add_events([event(4, "a"), event(5, UNKNOWN_HIRER), event(6, "c"), event(7, "c")])
    assert inbox.pending_hirer_counts(0) == {
        hirer_id("a"): 3,
        hirer_id("b"): 1,
        hirer_id("c"): 2,
        UNKNOWN_HIRER: 1,
    }
    assert inbox.pending_hirer_counts(mark) == {
        hirer_id("a"): 1,
        hirer_id("c"): 2,
        UNKNOWN_HIRER: 1,
    }
    pending = inbox.pending_by_hirer(mark)
    assert pending[hirer_id("c")] == HirerPending(count=2, max_seq=inbox.max_seq())
    assert inbox.pending_hirer_counts(inbox.max_seq()) == {}
    assert ids(inbox.events_for_hirer(hirer_id("a"))) == ["ev-1", "ev-3", "ev-4"]
    assert ids(inbox.events_for_hirer(hirer_id("a"), after_seq=mark)) == ["ev-4"]
    assert ids(inbox.events_for_hirer(hirer_id("a"), limit=1)) == ["ev-1"]
    assert ids(inbox.events_for_hirer(hirer_id("a"), upto_seq=mark)) == ["ev-1", "ev-3"]
    assert ids(inbox.unknown_hirer_events()) == ["ev-5"]
    assert inbox.counts() == {"events": 7, "callbacks": 0, "unknown_hirer": 1}


def test_resolve_hirer_moves_the_event_to_a_new_seq(inbox: Inbox) -> None:
    inbox.add_events([event(1, UNKNOWN_HIRER), event(2, UNKNOWN_HIRER), event(3, "a")])
    old = {r.event_id: r for r in inbox.events_after(0)}
    top = inbox.max_seq()
    assert inbox.resolve_hirer("ev-1", hirer_id("h9")) is True
    assert inbox.resolve_hirer("ev-1", hirer_id("h8")) is False  # already known
    assert inbox.resolve_hirer("ev-3", hirer_id("h8")) is False
    assert inbox.resolve_hirer("missing", hirer_id("h8")) is False
    with pytest.raises(ValueError):
        inbox.resolve_hirer("ev-2", UNKNOWN_HIRER)
    [moved] = inbox.events_after(top)
    assert moved.event_id == "ev-1" and moved.hirer_id == hirer_id("h9") and moved.seq > top
    assert (moved.raw, moved.received_at, moved.source) == (
        old["ev-1"].raw,
        old["ev-1"].received_at,
        old["ev-1"].source,
    )
    assert ids(inbox.unknown_hirer_events()) == ["ev-2"]
    assert inbox.counts() == {"events": 3, "callbacks": 0, "unknown_hirer": 1}
    assert inbox.pending_hirer_counts(top) == {hirer_id("h9"): 1}
    # Even after a delete, a seq is never handed out twice.
    inbox.add_events([event(4)])
    assert inbox.events_after(0)[-1].seq > moved.seq


def test_callbacks_dedupe_and_filter(inbox: Inbox) -> None:
    def cb(n: int, target: str) -> InboxCallback:
        return InboxCallback(f"{target}:{n}", target, f"key-{n}", "accepted", {"n": n})

    assert inbox.add_callbacks([cb(1, "onderwijsregio"), cb(2, "kombo"), cb(1, "onderwijsregio")])
    assert inbox.add_callbacks([cb(2, "kombo"), cb(3, "onderwijsregio")]) == 1
    rows = inbox.callbacks_after(0)
    assert [r.callback_id for r in rows] == ["onderwijsregio:1", "kombo:2", "onderwijsregio:3"]
    assert rows[0].raw == {"n": 1} and rows[0].idempotency_key == "key-1"
    only = inbox.callbacks_after(rows[0].seq, target="onderwijsregio")
    assert [r.callback_id for r in only] == ["onderwijsregio:3"]
    assert len(inbox.callbacks_after(0, limit=2)) == 2
    assert inbox.counts()["callbacks"] == 3


def test_pickles_as_where_it_lives_and_closes(inbox: Inbox) -> None:
    inbox.add_events([event(1)])
    copy = pickle.loads(pickle.dumps(inbox))
    assert repr(copy) == repr(inbox) and ids(copy.events_after(0)) == ["ev-1"]
    inbox.close()
    assert ids(inbox.events_after(0)) == ["ev-1"]  # reopens on use


# --- several processes at once --------------------------------------------------------------

PER_WRITER, BATCH = 2_000, 50


def _writer(inbox: Inbox, first: int, seed: int, go: EventType, out: Any) -> None:
    try:
        numbers = list(range(first, first + PER_WRITER))
        random.Random(seed).shuffle(numbers)
        out.put(("ready", 0, None))
        go.wait(30)
        new = 0
        for i in range(0, PER_WRITER, BATCH):
            batch = [event(n, hirer=f"h{n % 7}", writer=first) for n in numbers[i : i + BATCH]]
            new += inbox.add_events(batch, cursor=(f"writer-{first}", str(i)))
            time.sleep(0.002)  # a poller or receiver does some work between its writes
        out.put(("writer", new, None))
    except BaseException:
        out.put(("writer", 0, traceback.format_exc()))


def _reader(inbox: Inbox, expected: int, go: EventType, out: Any) -> None:
    try:
        out.put(("ready", 0, None))
        go.wait(30)
        seen: list[tuple[int, str]] = []
        deadline = time.monotonic() + 60
        while len(seen) < expected and time.monotonic() < deadline:
            last = seen[-1][0] if seen else 0
            seen += [(r.seq, r.event_id) for r in inbox.events_after(last, limit=300)]
            inbox.pending_hirer_counts(last)
            inbox.counts()
        seqs = [s for s, _ in seen]
        problem = None
        if seqs != sorted(set(seqs)) or len({i for _, i in seen}) != len(seen):
            problem = "reader saw seqs out of order or an event twice"
        out.put(("reader", len(seen), problem))
    except BaseException:
        out.put(("reader", 0, traceback.format_exc()))


def test_two_writer_processes_and_a_reader(backend: Backend) -> None:
    inbox = inbox_of(backend)  # pickled: each process opens its own connections to it
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    expected = PER_WRITER + PER_WRITER // 2  # the writers share half of their ids
    processes = [
        ctx.Process(target=_writer, args=(inbox, 0, 1, go, out)),
        ctx.Process(target=_writer, args=(inbox, PER_WRITER // 2, 2, go, out)),
        ctx.Process(target=_reader, args=(inbox, expected, go, out)),
    ]
    for p in processes:
        p.start()
    results, elapsed = [], 0.0
    try:
        for _ in processes:  # every child has imported and opened the inbox
            assert out.get(timeout=60)[0] == "ready"
        started = time.perf_counter()
        go.set()
        for _ in processes:
            results.append(out.get(timeout=90))
            if results[-1][0] == "writer":
                elapsed = time.perf_counter() - started
    except Empty:
        pytest.fail(f"a process hung; results so far: {results}")
    for p in processes:
        p.join(timeout=30)
    assert [r[2] for r in results] == [None, None, None], results
    assert all(p.exitcode == 0 for p in processes)
    writers = [r[1] for r in results if r[0] == "writer"]
    assert sum(writers) == expected  # every id counted new exactly once across both writers
    assert [r[1] for r in results if r[0] == "reader"] == [expected]
    rows = inbox.events_after(0)
    assert sorted(ids(rows)) == sorted(f"ev-{n}" for n in range(expected))
    seqs = [r.seq for r in rows]
    assert seqs == sorted(set(seqs))
    origin = [r.raw["writer"] for r in rows]
    turns = sum(a != b for a, b in itertools.pairwise(origin))
    assert turns >= 2, "the writers never overlapped"
    print(
        f"\n{backend.name}: two writers: {2 * PER_WRITER} events offered, {expected} stored in "
        f"{elapsed:.2f} s = {2 * PER_WRITER / elapsed:,.0f} events/s offered; "
        f"writers took turns {turns} times"
    )
