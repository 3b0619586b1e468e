"""The poller: SEEK `events` from the saved cursor into the inbox, one transaction per page.

Each page and the cursor after it are stored together, so a crash between pages repeats a page
(de-duplicated by event id) and never skips one. Events whose hirer could not be read are kept as
`unknown_hirer` and looked up again on later polls; an event whose hirer id is malformed is
dropped with a logged reason. A time budget bounds each run.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field

from seek_sync.ids import is_hirer_id, shown
from seek_sync.runstate.inbox import UNKNOWN_HIRER, Inbox, InboxEvent
from seek_sync.seek.client import SeekClient
from seek_sync.seek.errors import SeekError
from seek_sync.seek.events import PolledEvent

log = logging.getLogger("seek_sync.poller")

CURSOR_NAME = "seek_events"


@dataclass
class PollReport:
    pages: int = 0
    events_read: int = 0
    events_new: int = 0
    unknown_hirer: int = 0
    rejected: int = 0  # events whose hirerId is not a SEEK hirer id: logged, never stored
    hirers_resolved: int = 0
    out_of_budget: bool = False
    cursor: str | None = None
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def to_inbox(event: PolledEvent) -> InboxEvent:
    return InboxEvent(
        event_id=event.event_id,
        type_code=event.type_code,
        source="poll",
        hirer_id=event.hirer_id or UNKNOWN_HIRER,
        profile_id=event.profile_id,
        candidate_id=event.candidate_id,
        created_at=event.create_date_time,
        raw=event.raw,
    )


def inbox_rows(events: list[PolledEvent]) -> tuple[list[InboxEvent], int]:
    """The events to store, and how many were dropped for a malformed `hirerId` (each logged as
    a short ASCII repr): such an id must never become a routing key or a partition."""
    rows = []
    for event in events:
        if event.hirer_id is not None and not is_hirer_id(event.hirer_id):
            log.warning("event rejected: hirerId %s is not a SEEK hirer id", shown(event.hirer_id))
            continue
        rows.append(to_inbox(event))
    return rows, len(events) - len(rows)


async def resolve_unknown_hirers(client: SeekClient, inbox: Inbox, *, limit: int = 100) -> int:
    """Look again for the hirer of events stored as unknown_hirer; returns how many were found."""
    pending = [e for e in inbox.unknown_hirer_events(limit=limit) if e.profile_id]
    if not pending:
        return 0
    results = await client.profiles([e.profile_id for e in pending])  # type: ignore[misc]
    resolved = 0
    for event, result in zip(pending, results, strict=True):
        hirer = result.profile.hirer_id if result.profile else None
        if hirer and not is_hirer_id(hirer):
            log.warning("profile's hirerId %s is not a SEEK hirer id: left unknown", shown(hirer))
        elif hirer and inbox.resolve_hirer(event.event_id, hirer):
            resolved += 1
    return resolved


async def poll(
    client: SeekClient,
    inbox: Inbox,
    *,
    budget_seconds: float,
    cursor_name: str = CURSOR_NAME,
    session_id: str | None = None,
) -> PollReport:
    """Read pages until the stream ends, the budget runs out or SEEK fails (reported)."""
    started = time.monotonic()
    deadline = started + budget_seconds
    session_id = session_id or str(uuid.uuid4())
    report = PollReport(cursor=inbox.get_cursor(cursor_name))
    pages = client.event_pages(report.cursor, session_id=session_id)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                report.out_of_budget = True
                break
            try:
                async with asyncio.timeout(remaining):
                    page = await anext(pages)
            except StopAsyncIteration:
                break
            except TimeoutError:
                report.out_of_budget = True
                break
            except SeekError as error:
                log.error("polling stopped: %s", error)
                report.errors.append(str(error))
                break
            rows, rejected = inbox_rows(page.events)
            stored = await asyncio.to_thread(
                inbox.add_events,
                rows,
                cursor=(cursor_name, page.end_cursor) if page.end_cursor else None,
            )
            report.rejected += rejected
            report.pages += 1
            report.events_read += len(page.events)
            report.events_new += stored
            report.unknown_hirer += sum(1 for e in page.events if e.hirer_id is None)
            report.cursor = page.end_cursor
    finally:
        await pages.aclose()  # type: ignore[attr-defined]
    if time.monotonic() < deadline:
        try:
            async with asyncio.timeout(deadline - time.monotonic()):
                report.hirers_resolved = await resolve_unknown_hirers(client, inbox)
        except TimeoutError:
            report.out_of_budget = True
    report.seconds = time.monotonic() - started
    log.info(
        "polled %d pages: %d events read, %d new, %d without hirer, %d rejected, "
        "%d hirers resolved",
        report.pages,
        report.events_read,
        report.events_new,
        report.unknown_hirer,
        report.rejected,
        report.hirers_resolved,
    )
    return report
