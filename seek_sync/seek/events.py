"""Paging SEEK's `events` stream from a saved cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from seek_sync.seek.errors import MalformedResponseError
from seek_sync.seek.graphql import SeekGraphQLClient
from seek_sync.seek.models import EventEdge, EventsConnection, GraphQLErrorItem
from seek_sync.seek.queries import EVENTS

# Errors inside these fields only hide an event's hirer (e.g. a removed relationship gives
# FORBIDDEN on the position profile); the event itself is intact and is kept as unknown_hirer.
_HIRER_FIELDS = frozenset({"candidateApplicationProfile", "associatedPositionProfile"})


@dataclass(frozen=True)
class PolledEvent:
    """One event as read from the stream, with the hirer we could find (None: unknown)."""

    event_id: str
    type_code: str
    hirer_id: str | None
    profile_id: str | None
    candidate_id: str | None
    create_date_time: str
    stream_date_time: str
    raw: dict[str, Any]

    @classmethod
    def from_edge(cls, edge: EventEdge, raw: dict[str, Any]) -> PolledEvent:
        node = edge.node
        return cls(
            event_id=node.id.value,
            type_code=node.type_code,
            hirer_id=node.hirer,
            profile_id=node.candidate_application_profile_id,
            candidate_id=node.candidate_id,
            create_date_time=raw["node"]["createDateTime"],
            stream_date_time=raw["streamDateTime"],
            raw=raw["node"],
        )


@dataclass(frozen=True)
class EventPage:
    events: list[PolledEvent]
    end_cursor: str | None
    has_next_page: bool
    request_id: str


def _only_hides_hirers(errors: list[GraphQLErrorItem]) -> bool:
    return all(
        e.code == "FORBIDDEN" and e.path and _HIRER_FIELDS.intersection(map(str, e.path))
        for e in errors
    )


async def event_pages(
    graphql: SeekGraphQLClient,
    *,
    scheme_id: str,
    after: str | None,
    page_size: int = 100,
    session_id: str | None = None,
) -> AsyncIterator[EventPage]:
    """Pages of events after `after` (None: from the start) until `hasNextPage` is false."""
    while True:
        result = await graphql.execute(
            EVENTS,
            {"schemeId": scheme_id, "first": page_size, "after": after},
            session_id=session_id,
        )
        if result.errors and not _only_hides_hirers(result.errors):
            result.raise_first()
        raw = (result.data or {}).get("events")
        try:
            connection = EventsConnection.model_validate(raw)
        except ValidationError:
            raise MalformedResponseError(
                "events page does not match EventsConnection", request_id=result.request_id
            ) from None
        events = [
            PolledEvent.from_edge(edge, raw_edge)
            for edge, raw_edge in zip(connection.edges, raw["edges"], strict=True)
        ]
        end = connection.page_info.end_cursor or after
        yield EventPage(events, end, connection.page_info.has_next_page, result.request_id)
        if not connection.page_info.has_next_page or not events:
            return
        after = end
