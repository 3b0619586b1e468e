"""Stage 1: one hirer's events move from the inbox into `application_events`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pandas as pd

from seek_sync.pipeline.report import StageReport
from seek_sync.runstate.inbox import Inbox, StoredEvent
from seek_sync.store.warehouse import Warehouse, in_hirers

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
    inbox: Inbox,
    warehouse: Warehouse,
    hirer_ids: Sequence[str],
    *,
    upto: Mapping[str, int] | None = None,
) -> dict[str, StageReport]:
    """Every recorded event of each hirer (up to its `upto` seq) that the warehouse lacks is
    added, for all the hirers in one short write.

    All of a hirer's events are read each time, so a backfill re-derives from the inbox; an event
    already in the warehouse is left as it is (its first seq and source win).
    """
    reports = {h: StageReport("application_events", h) for h in hirer_ids}
    events = {h: inbox.events_for_hirer(h, 0, upto_seq=(upto or {}).get(h)) for h in hirer_ids}
    with warehouse.session() as db:
        known = set(
            db.query(
                f"SELECT event_id FROM application_events WHERE {in_hirers()}", [list(hirer_ids)]
            )["event_id"]
        )
        fresh = [e for found in events.values() for e in found if e.event_id not in known]
        db.upsert("application_events", event_rows(fresh))
    for event in fresh:
        report = reports[event.hirer_id]
        report.new += 1
        report.states[event.type_code] += 1
        report.add_preview(
            {"event": event.event_id, "type": event.type_code, "source": event.source}
        )
    for hirer_id, found in events.items():
        reports[hirer_id].unchanged = len(found) - reports[hirer_id].new
    return reports
