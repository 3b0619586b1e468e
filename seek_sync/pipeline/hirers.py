"""Hirers: which ones we may serve (SEEK's ApplicationExport relationship) and the `hirers` table.

A `HirerRelationshipChanged` event says only that something changed, so the current relationships
are read from SEEK (`hiringOrganizations`) and each hirer's state is kept in the inbox (cursor rows
`relationship:<hirer>`), where the sensor can read it without opening the warehouse. A removed
hirer gets no new work; everything stored for it stays. Hirers' names (organisations, not people)
are kept there too (`hirer_name:<hirer>`), for run tags and the UI.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from seek_sync.ats.targets import TargetMap, UnmappedHirerError
from seek_sync.pipeline.report import StageReport, Totals
from seek_sync.runstate.inbox import UNKNOWN_HIRER, Inbox
from seek_sync.seek.client import SeekClient
from seek_sync.store.warehouse import Warehouse

RELATIONSHIP = "relationship:"
NAME = "hirer_name:"
ACTIVE, REMOVED = "active", "removed"


async def refresh_relationships(
    client: SeekClient, inbox: Inbox, hirer_ids: Iterable[str]
) -> dict[str, str]:
    """Record whether each hirer still has our ApplicationExport relationship; one SEEK query."""
    wanted = [h for h in hirer_ids if h != UNKNOWN_HIRER]
    if not wanted:
        return {}
    related = await client.hiring_organizations(application_export_only=True)
    ids = {h.id.value for h in related}
    states = {h: ACTIVE if h in ids else REMOVED for h in wanted}
    names = {NAME + h.id.value: h.name for h in related if h.id.value in states and h.name}
    inbox.set_cursors({RELATIONSHIP + h: state for h, state in states.items()} | names)
    return states


def hirer_names(inbox: Inbox) -> dict[str, str]:
    """Every named hirer's name, as SEEK last told us."""
    return inbox.cursors(NAME)


async def learn_names(client: SeekClient, inbox: Inbox) -> dict[str, str]:
    """Every hirer SEEK relates us to, by name (one query), kept in the inbox; returns them."""
    names = {
        h.id.value: h.name
        for h in await client.hiring_organizations(application_export_only=False)
        if h.name
    }
    inbox.set_cursors({NAME + h: name for h, name in names.items()})
    return names


def removed_hirers(inbox: Inbox) -> set[str]:
    return {h for h, state in inbox.cursors(RELATIONSHIP).items() if state == REMOVED}


async def sync_hirers(
    client: SeekClient, inbox: Inbox, warehouse: Warehouse, targets: TargetMap | None
) -> StageReport:
    """One row per hirer seen in the inbox: name, relationship, ATS target, added/removed times."""
    report = StageReport("hirers", "*")
    seen = sorted(h for h in inbox.pending_by_hirer(0) if h != UNKNOWN_HIRER)
    names = {
        h.id.value: h.name for h in await client.hiring_organizations(application_export_only=False)
    }
    states = inbox.cursors(RELATIONSHIP)
    existing = warehouse.query("SELECT hirer_id, added_at, removed_at, relationship FROM hirers")
    before = {r.hirer_id: r for r in existing.itertuples()}
    now = datetime.now(UTC)
    rows = []
    for hirer_id in seen:
        state = states.get(hirer_id, ACTIVE)
        old = before.get(hirer_id)
        try:
            target: str | None = str(targets.for_hirer(hirer_id).target) if targets else None
        except UnmappedHirerError:
            target = None
            report.notes.append(f"{hirer_id} has no ATS target")
        removed_at = None
        if state == REMOVED:
            removed_at = old.removed_at if old is not None and old.relationship == REMOVED else now
        rows.append(
            {
                "hirer_id": hirer_id,
                "name": names.get(hirer_id),
                "relationship": state,
                "target": target,
                "added_at": old.added_at if old is not None else now,
                "removed_at": removed_at,
            }
        )
        report.states[state] += 1
        report.states[f"target:{target or 'unmapped'}"] += 1
        report.add_preview({"hirer": hirer_id, "relationship": state, "target": target})
    report.new = sum(1 for r in rows if r["hirer_id"] not in before)
    report.updated = len(rows) - report.new
    warehouse.upsert("hirers", rows)
    report.totals = Totals(rows=len(rows), states=dict(report.states))
    inbox.set_cursors({NAME + r["hirer_id"]: r["name"] for r in rows if r["name"]})
    return report
