"""The cheap check that wakes `sync --loop`: the inbox's last event and callback seqs, both
backends."""

from __future__ import annotations

import threading
import time

from seek_sync.runstate.inbox import InboxCallback
from seek_sync.runstate.wake import Marks, marks, wait_for_input
from tests.backends import Backend
from tests.inboxes import inbox_of
from tests.test_inbox import event


def test_marks_move_with_each_stored_event_and_callback(backend: Backend) -> None:
    inbox = inbox_of(backend)
    assert marks(inbox) == Marks(0, 0)
    inbox.add_events([event(1), event(2)])
    assert marks(inbox) == Marks(inbox.max_seq(), 0) and marks(inbox).events >= 2
    inbox.add_callbacks([InboxCallback("or:1", "onderwijsregio", "key-1", "succeeded", {})])
    moved = marks(inbox)
    assert moved.callbacks == inbox.max_seq("callbacks") > 0
    inbox.add_events([event(1)])  # a duplicate is not stored: nothing moved
    assert marks(inbox) == moved


def test_a_waiting_loop_wakes_when_a_webhook_is_stored_and_not_before(backend: Backend) -> None:
    inbox = inbox_of(backend)
    since, stop = marks(inbox), threading.Event()
    started = time.monotonic()
    assert wait_for_input(inbox, since, 0.6, stop, step=0.05) is False  # nothing came
    assert time.monotonic() - started >= 0.6
    writer = threading.Timer(0.3, lambda: inbox_of(backend).add_events([event(7)]))
    writer.start()
    started = time.monotonic()
    assert wait_for_input(inbox, since, 30, stop, step=0.05) is True
    assert 0.25 <= time.monotonic() - started < 5  # woken by the store, not the 30 s
    writer.join()
    stop.set()
    started = time.monotonic()
    assert wait_for_input(inbox, marks(inbox), 30, stop) is False  # a stop ends the wait at once
    assert time.monotonic() - started < 1
