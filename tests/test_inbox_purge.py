"""Tombstones: what a purge removed is refused at the inbox, whoever brings it back."""

from __future__ import annotations

from pathlib import Path

from seek_sync.runstate.inbox import Inbox, InboxEvent
from seek_sync.runstate.tombstones import bury, erase, scrub

HIRER = "seekAnzPublicTest:organization:seek:AAAA1111"


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
    tmp_path: Path,
) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    bury(inbox, "purge-1", hirer_id=None, candidate_ids=["c1"], profile_ids=["p1"])
    events = [
        _event(1, profile="p1", candidate="c9", at="2099-01-01T00:00:00.000Z"),  # profile: never
        _event(2, profile="p2", candidate="c1", at="2026-01-01T00:00:00.000Z"),  # before: refused
        _event(3, profile="p3", candidate="c1", at="2099-01-01T00:00:00.000Z"),  # a new application
        _event(4, profile="p4", candidate="c2", at="2026-01-01T00:00:00.000Z"),  # someone else
    ]
    assert inbox.add_events(events) == 2
    assert [e.event_id for e in inbox.events_after(0)] == ["e3", "e4"]


def test_a_buried_hirer_takes_its_old_events_and_an_erase_leaves_no_bytes(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    secret = "kai.henare@mail.example.net"
    old = _event(1, profile="p1", candidate="c1", at="2026-01-01T00:00:00.000Z")
    inbox.add_events([InboxEvent(**{**old.__dict__, "raw": {"note": secret}})])
    files = lambda: [p for p in tmp_path.iterdir() if secret.encode() in p.read_bytes()]  # noqa: E731
    assert files()  # positive control: the raw search sees it now
    assert erase(inbox, hirer_id=HIRER, profile_ids=[], candidate_ids=[], dry_run=True) == {
        "inbox.events": 1, "inbox.callbacks": 0, "inbox.journal": 0, "inbox.hirer_work": 0
    }  # fmt: skip
    bury(inbox, "purge-2", hirer_id=HIRER, candidate_ids=[], profile_ids=[])
    erase(inbox, hirer_id=HIRER, profile_ids=[], candidate_ids=[])
    scrub(inbox)
    assert inbox.add_events([old]) == 0  # a replay of an old event is refused
    assert files() == []
