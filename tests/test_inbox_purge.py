"""Tombstones: what a purge removed is refused at the inbox, whoever brings it back."""

from __future__ import annotations

from pathlib import Path

import psycopg

from seek_sync.db.database import SqliteDatabase
from seek_sync.runstate.inbox import Inbox, InboxEvent
from seek_sync.runstate.schema import TABLES
from seek_sync.runstate.tombstones import bury, erase, erase_buried, restore, scrub, tombstones
from tests.backends import Backend
from tests.inboxes import inbox_of
from tests.services import ADMIN_URL

HIRER = "seekAnzPublicTest:organization:seek:AAAA1111"


def stored_copies(inbox: Inbox, secret: str) -> list[str]:
    """Where the secret's bytes are: the SQLite file and its WAL, or the PostgreSQL tables' files
    (read from the server's data directory; a row still in a page counts, deleted or not)."""
    if isinstance(inbox.database, SqliteDatabase):
        home = inbox.database.path.parent
        return [p.name for p in home.iterdir() if p.is_file() and secret.encode() in p.read_bytes()]
    return [t for t in TABLES if secret.encode() in table_bytes(inbox, t)]


def table_bytes(inbox: Inbox, table: str) -> bytes:
    """The raw bytes of a PostgreSQL table's file(s) (main fork, every segment), after a
    checkpoint has written every page (the tests' server runs on this machine)."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute("CHECKPOINT")
    path = inbox.read(
        "SELECT current_setting('data_directory') || '/' || pg_relation_filepath(?)", (table,)
    )[0][0]
    found, segment = b"", Path(path)
    index = 0
    while segment.exists():
        found += segment.read_bytes()
        index += 1
        segment = Path(f"{path}.{index}")
    return found


def _event(n: int, *, profile: str, candidate: str, at: str) -> InboxEvent:
    return InboxEvent(
        event_id=f"e{n}",
        type_code="CandidateApplicationCreated",
        source="webhook",
        hirer_id=HIRER,
        profile_id=profile,
        candidate_id=candidate,
        created_at=at,
        raw={"id": f"e{n}"},
    )


def test_buried_profiles_never_come_back_and_buried_candidates_only_up_to_the_purge(
    backend: Backend,
) -> None:
    inbox = inbox_of(backend)
    bury(inbox, "purge-1", hirer_id=None, candidate_ids=["c1"], profile_ids=["p1"])
    events = [
        _event(1, profile="p1", candidate="c9", at="2099-01-01T00:00:00.000Z"),  # profile: never
        _event(2, profile="p2", candidate="c1", at="2026-01-01T00:00:00.000Z"),  # before: refused
        _event(3, profile="p3", candidate="c1", at="2099-01-01T00:00:00.000Z"),  # a new application
        _event(4, profile="p4", candidate="c2", at="2026-01-01T00:00:00.000Z"),  # someone else
    ]
    assert inbox.add_events(events) == 2
    assert [e.event_id for e in inbox.events_after(0)] == ["e3", "e4"]


def test_a_buried_hirer_takes_its_old_events_and_an_erase_leaves_no_bytes(backend: Backend) -> None:
    inbox = inbox_of(backend)
    secret = "kai.henare@mail.example.net"
    old = _event(1, profile="p1", candidate="c1", at="2026-01-01T00:00:00.000Z")
    inbox.add_events([InboxEvent(**{**old.__dict__, "raw": {"note": secret}})])
    files = lambda: stored_copies(inbox, secret)  # noqa: E731
    assert files()  # positive control: the raw search sees it now
    assert erase(inbox, hirer_id=HIRER, profile_ids=[], candidate_ids=[], dry_run=True) == {
        "inbox.events": 1, "inbox.callbacks": 0, "inbox.journal": 0, "inbox.hirer_work": 0
    }  # fmt: skip
    bury(inbox, "purge-2", hirer_id=HIRER, candidate_ids=[], profile_ids=[])
    erase(inbox, hirer_id=HIRER, profile_ids=[], candidate_ids=[])
    scrub(inbox)
    assert inbox.add_events([old]) == 0  # a replay of an old event is refused
    assert files() == []


def test_restored_tombstones_keep_the_later_purge_and_erase_what_they_cover(
    backend: Backend,
) -> None:
    """After a restore: events stored before the tombstones came back are erased exactly as
    `add_events` would have refused them; a tombstone put back keeps the later of two times."""
    inbox = inbox_of(backend)
    inbox.add_events(
        [
            _event(1, profile="p1", candidate="c9", at="2099-01-01T00:00:00.000Z"),  # profile
            _event(2, profile="p2", candidate="c1", at="2026-01-01T00:00:00.000Z"),  # before
            _event(3, profile="p3", candidate="c1", at="2026-09-01T00:00:00.000Z"),  # after
            _event(4, profile="p4", candidate="c2", at="2026-01-01T00:00:00.000Z"),  # someone else
        ]
    )
    when = {"purge_id": "purge-1", "purged_at": "2026-06-01T00:00:00"}
    saved = [{"kind": "profile", "id": "p1", **when}, {"kind": "candidate", "id": "c1", **when}]
    assert restore(inbox, saved) == 2
    older = {**saved[1], "purge_id": "purge-0", "purged_at": "2026-05-01T00:00:00"}
    assert restore(inbox, [older]) == 0  # an earlier purge of the same id covers less
    assert [t["purge_id"] for t in tombstones(inbox)] == ["purge-1", "purge-1"]
    assert erase_buried(inbox, dry_run=True) == {HIRER: 2}
    assert [e.event_id for e in inbox.events_after(0)] == ["e1", "e2", "e3", "e4"]  # counted only
    assert erase_buried(inbox) == {HIRER: 2}
    assert [e.event_id for e in inbox.events_after(0)] == ["e3", "e4"]
    assert erase_buried(inbox) == {}
