"""What one sensor tick asks for, decided from the inbox alone (no Dagster, no warehouse).

The cursor is two inbox sequence numbers (events, callbacks). Each hirer with new events or new
callbacks past it gets one unit of work, keyed by the hirer and the sequence numbers it covers, so
a repeated tick asks for the same run keys and a crash between ticks loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from seek_sync.inbox import UNKNOWN_HIRER, Inbox
from seek_sync.pipeline.hirers import removed_hirers


@dataclass(frozen=True)
class TickCursor:
    events: int = 0
    callbacks: int = 0

    def to_json(self) -> str:
        return json.dumps({"events": self.events, "callbacks": self.callbacks})

    @classmethod
    def parse(cls, raw: str | None) -> TickCursor:
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(int(data.get("events", 0)), int(data.get("callbacks", 0)))


@dataclass(frozen=True)
class HirerWork:
    hirer_id: str
    events: int
    callbacks: int
    upto_seq: int

    def run_key(self, cursor: TickCursor) -> str:
        return f"{self.hirer_id}|events:{cursor.events}|callbacks:{cursor.callbacks}"


@dataclass
class TickPlan:
    cursor: TickCursor
    work: list[HirerWork] = field(default_factory=list)
    new_hirers: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # hirers with new input but no relationship
    unknown_hirer: int = 0


def plan_tick(inbox: Inbox, cursor: TickCursor, is_known: Callable[[str], bool]) -> TickPlan:
    """New hirers to add as partitions, and one unit of work per served hirer with new input."""
    events = inbox.pending_by_hirer(cursor.events)
    callbacks = inbox.pending_by_hirer(cursor.callbacks, table="callbacks")
    upto = TickCursor(
        max([cursor.events, *(p.max_seq for p in events.values())]),
        max([cursor.callbacks, *(p.max_seq for p in callbacks.values())]),
    )
    plan = TickPlan(upto)
    plan.unknown_hirer = events.pop(UNKNOWN_HIRER).count if UNKNOWN_HIRER in events else 0
    callbacks.pop(UNKNOWN_HIRER, None)
    removed = removed_hirers(inbox) if events or callbacks else set()
    for hirer_id in sorted(set(events) | set(callbacks)):
        if hirer_id in removed:
            plan.removed.append(hirer_id)
            continue
        if not is_known(hirer_id):
            plan.new_hirers.append(hirer_id)
        new_events = events.get(hirer_id)
        plan.work.append(
            HirerWork(
                hirer_id,
                events=new_events.count if new_events else 0,
                callbacks=callbacks[hirer_id].count if hirer_id in callbacks else 0,
                upto_seq=upto.events,
            )
        )
    return plan
