"""Whether the inbox moved: the cheap check that wakes a waiting loop.

The receiver stores every webhook and callback in the inbox, each row with a sequence number, so
the last event seq and the last callback seq say whether anything arrived: one indexed read of
two maxima, on SQLite and PostgreSQL alike, cheap enough to repeat a few times a second while
nothing happens. `sync --loop` waits with it instead of sleeping out its interval, and starts a
tick as soon as a webhook or a callback is stored. No Dagster here.
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

from seek_sync.runstate.inbox import Inbox

MARKS_SQL = (
    "SELECT (SELECT COALESCE(MAX(seq), 0) FROM events) AS events, "
    "(SELECT COALESCE(MAX(seq), 0) FROM callbacks) AS callbacks"
)
STEP_SECONDS = 0.25  # between two reads while waiting: a stored webhook starts work within this


class Marks(NamedTuple):
    events: int
    callbacks: int


def marks(inbox: Inbox) -> Marks:
    """The inbox's last event and callback seqs."""
    row = inbox.read(MARKS_SQL)[0]
    return Marks(int(row["events"]), int(row["callbacks"]))


def wait_for_input(
    inbox: Inbox,
    since: Marks,
    seconds: float,
    stop: threading.Event,
    step: float = STEP_SECONDS,
) -> bool:
    """Wait until the inbox moved past `since` (True), or `seconds` passed or `stop` was set
    (False). A failing read (a database restarting) is waited out like nothing new."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        try:
            if marks(inbox) != since:
                return True
        except Exception:
            pass
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        stop.wait(min(step, left))
    return False
