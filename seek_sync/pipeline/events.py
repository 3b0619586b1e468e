"""Stage 1: one hirer's events move from the inbox into `application_events`."""

from __future__ import annotations

import json

import pandas as pd

from seek_sync.inbox import Inbox, StoredEvent
from seek_sync.pipeline.report import StageReport
from seek_sync.store.warehouse import Warehouse

APPLICATION_CREATED = "CandidateApplicationCreated"
RELATIONSHIP_CHANGED = "HirerRelationshipChanged"


def event_rows(events: list[StoredEvent]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "event_id": e.event_id,
                "hirer_id": e.hirer_id,
                "type_code": e.type_code,
                "source": e.source,
                "profile_id": e.profile_id,
                "candidate_id": e.candidate_id,
                "created_at": e.created_at,
                "inbox_seq": e.seq,
                "raw_json": json.dumps(e.raw, separators=(",", ":"), ensure_ascii=False),
            }
            for e in events
        ]
    )


def sync_events(
    inbox: Inbox, warehouse: Warehouse, hirer_id: str, *, upto_seq: int | None = None
) -> StageReport:
    """Every recorded event of the hirer (up to `upto_seq`) that the warehouse lacks is added.

    All of the hirer's events are read each time, so a backfill re-derives from the inbox; an event
    already in the warehouse is left as it is (its first seq and source win).
    """
    report = StageReport("application_events", hirer_id)
    events = inbox.events_for_hirer(hirer_id, 0, upto_seq=upto_seq)
    known = set(
        warehouse.query("SELECT event_id FROM application_events WHERE hirer_id = ?", [hirer_id])[
            "event_id"
        ]
    )
    fresh = [e for e in events if e.event_id not in known]
    report.new, report.unchanged = len(fresh), len(events) - len(fresh)
    warehouse.upsert("application_events", event_rows(fresh))
    for event in fresh:
        report.states[event.type_code] += 1
        report.add_preview(
            {"event": event.event_id, "type": event.type_code, "source": event.source}
        )
    return report
