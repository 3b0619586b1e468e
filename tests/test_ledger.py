"""The ledger: what a hirer owes, when it is due, and how failures back off."""

from __future__ import annotations

from seek_sync.runstate.inbox import InboxCallback, InboxEvent
from seek_sync.runstate.ledger import Backoff, HirerWork, Ledger, Owed
from tests.backends import Backend
from tests.inboxes import inbox_of

BACKOFF = Backoff(base_seconds=30, max_seconds=600)
H1, H2 = "seekAnzPublicTest:organization:seek:H1", "seekAnzPublicTest:organization:seek:H2"


def event(n: int, hirer: str) -> InboxEvent:
    return InboxEvent(f"e{n}", "CandidateApplicationCreated", "poll", hirer, f"p{n}")


def finish(ledger: Ledger, hirer: str, owed: Owed | None, error: str | None = None) -> HirerWork:
    work = ledger.row(hirer)
    work.events_seq = ledger.marks("events", [hirer]).get(hirer, 0)
    work.callbacks_seq = ledger.marks("callbacks", [hirer]).get(hirer, 0)
    return ledger.finish(
        work, run_id="r", owed=owed, error=error, confirm_timeout=600, backoff=BACKOFF
    )


def test_new_input_makes_a_hirer_due_until_a_pass_consumes_it(backend: Backend) -> None:
    inbox = inbox_of(backend)
    ledger = Ledger(inbox)
    inbox.add_events([event(1, H1), event(2, H2), event(3, "unknown_hirer")])
    assert [d.hirer_id for d in ledger.due()] == [H1, H2]
    finish(ledger, H1, Owed())
    assert [d.hirer_id for d in ledger.due()] == [H2]
    inbox.add_callbacks([InboxCallback("c1", "onderwijsregio", hirer_id=H1)])
    assert {d.hirer_id: d.new_callbacks for d in ledger.due()} == {H1: 1, H2: 0}
    assert [d.hirer_id for d in ledger.due(exclude={H1})] == [H2]


def test_a_failed_pass_keeps_its_input_owed_and_backs_off(backend: Backend) -> None:
    inbox = inbox_of(backend)
    ledger = Ledger(inbox)
    inbox.add_events([event(1, H1)])
    first = finish(ledger, H1, None, error="boom")
    second = finish(ledger, H1, None, error="boom")
    assert (first.events_seq, second.failures, second.last_error) == (0, 2, "boom")
    assert second.due_at is not None
    assert ledger.due(now=second.due_at - 1)[0].new_events == 1  # its input is still owed
    assert ledger.failing(at_least=2) and not ledger.failing(at_least=3)


def test_due_times_follow_what_is_owed() -> None:
    now = 1_000.0
    assert Owed().next_due(now, 0, confirm_timeout=600, backoff=BACKOFF) is None
    assert Owed(backlog=3).next_due(now, 0, confirm_timeout=600, backoff=BACKOFF) == now
    assert Owed(retry=1).next_due(now, 1, confirm_timeout=600, backoff=BACKOFF) == now + 30
    assert Owed(retry=1).next_due(now, 3, confirm_timeout=600, backoff=BACKOFF) == now + 120
    assert Owed(retry=1).next_due(now, 10, confirm_timeout=600, backoff=BACKOFF) == now + 600
    waiting = Owed(waiting=2, waiting_since=900.0)
    assert waiting.next_due(now, 0, confirm_timeout=600, backoff=BACKOFF) == 1500.0


def test_items_left_to_retry_count_as_failures_and_clear_when_done(backend: Backend) -> None:
    inbox = inbox_of(backend)
    ledger = Ledger(inbox)
    inbox.add_events([event(1, H1)])
    assert finish(ledger, H1, Owed(retry=1)).failures == 1
    assert finish(ledger, H1, Owed(retry=1)).failures == 2
    cleared = finish(ledger, H1, Owed())
    assert (cleared.failures, cleared.due_at, cleared.events_seq) == (0, None, 1)
    assert ledger.due() == []
