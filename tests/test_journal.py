"""The journal: outcomes survive in the inbox database (either backend) and merge into the
warehouse in order, once, idempotently."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from seek_sync.runstate.journal import Journal
from seek_sync.store.warehouse import Warehouse
from seek_sync.testhooks import KILL_AT_ENV, MERGE_BEFORE_COMMIT
from tests.backends import Backend
from tests.inboxes import inbox_of, warehouse_of


def upload(attachment_id: str, state: str, attempts: int = 1) -> dict[str, object]:
    return {
        "attachment_id": attachment_id,
        "target": "kombo",
        "hirer_id": "h1",
        "state": state,
        "attempts": attempts,
        "outcome_unknown": False,
        "updated_at": datetime.now(UTC),
    }


def states(warehouse: Warehouse) -> dict[str, tuple[str, int]]:
    frame = warehouse.query("SELECT attachment_id, state, attempts FROM ats_uploads")
    return {r.attachment_id: (r.state, r.attempts) for r in frame.itertuples()}


def test_the_newest_row_per_key_wins_and_the_journal_empties(backend: Backend) -> None:
    inbox, warehouse = inbox_of(backend), warehouse_of(backend)
    journal = Journal(inbox)
    journal.record("ats_uploads", [upload("a1", "pending"), upload("a2", "accepted")])
    journal.record("ats_uploads", [upload("a1", "accepted", 2)])
    assert journal.pending() == 3 and journal.pending("h1") == 3 and journal.pending("h2") == 0
    assert journal.merge(warehouse) == 3
    assert states(warehouse) == {"a1": ("accepted", 2), "a2": ("accepted", 1)}
    assert journal.pending() == 0
    assert journal.merge(warehouse) == 0  # nothing to do, nothing changes
    journal.record("ats_uploads", [upload("a2", "confirmed")])
    journal.merge(warehouse)
    assert states(warehouse)["a2"] == ("confirmed", 1)
    updated = warehouse.query("SELECT updated_at FROM ats_uploads")["updated_at"]
    assert str(updated.dtype).startswith("datetime64")  # ISO strings merged as TIMESTAMPTZ


def test_a_kill_inside_a_merge_loses_nothing(backend: Backend) -> None:
    inbox, warehouse = inbox_of(backend), warehouse_of(backend)
    journal = Journal(inbox)
    journal.record("ats_uploads", [upload("a1", "accepted")])
    journal.merge(warehouse)
    journal.record("ats_uploads", [upload("a1", "confirmed"), upload("a3", "accepted")])
    code = (
        "from seek_sync.backend import open_inbox, open_warehouse; "
        "from seek_sync.runstate.journal import Journal; "
        "from seek_sync.settings import WarehouseFields, load; "
        "settings = load(WarehouseFields); "
        "Journal(open_inbox(settings)).merge(open_warehouse(settings))"
    )
    env = {**backend.env, KILL_AT_ENV: MERGE_BEFORE_COMMIT, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
    assert done.returncode == -9  # killed after the rows were written, before COMMIT
    assert states(warehouse) == {"a1": ("accepted", 1)}  # the half-done merge left no trace
    assert journal.pending() == 2  # and the rows wait in the journal
    assert journal.merge(warehouse) == 2
    assert states(warehouse) == {"a1": ("confirmed", 1), "a3": ("accepted", 1)}
