"""The inbox database's rows and SQL: events, callbacks, and the run state kept beside them.

Beside the inbox proper (events, callbacks, cursors) the same database holds what runs need to
survive a dead process (tables: `seek_sync.runstate.schema`): the journal of call outcomes not
yet merged into the warehouse, what each hirer owes (`hirer_work`), which process holds which
hirer (`leases`) and runs' owners.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from seek_sync.ids import check_hirer_id

UNKNOWN_HIRER = "unknown_hirer"
Source = Literal["poll", "webhook"]
_T = TypeVar("_T")

EVENT_FIELDS = (
    "event_id", "type_code", "source", "hirer_id", "profile_id", "candidate_id", "created_at"
)  # fmt: skip
CALLBACK_FIELDS = ("callback_id", "target", "hirer_id", "idempotency_key", "status")


def insert_sql(table: str, fields: Sequence[str], key: str) -> str:
    columns = (*fields, "raw_json", "received_at")
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({key}) DO NOTHING"
    )


ROW_COLUMNS = (*EVENT_FIELDS, "raw_json", "received_at")
INSERT_EVENT = insert_sql("events", EVENT_FIELDS, "event_id")
INSERT_CALLBACK = insert_sql("callbacks", CALLBACK_FIELDS, "callback_id")
SELECT_EVENTS = f"SELECT seq, {', '.join(EVENT_FIELDS)}, raw_json, received_at FROM events"
SELECT_CALLBACKS = f"SELECT seq, {', '.join(CALLBACK_FIELDS)}, raw_json, received_at FROM callbacks"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def dumps_raw(raw: dict[str, Any]) -> str:
    return json.dumps(raw, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class InboxEvent:
    """One SEEK event as the poller or the webhook receiver saw it."""

    event_id: str
    type_code: str
    source: Source
    hirer_id: str = UNKNOWN_HIRER
    profile_id: str | None = None
    candidate_id: str | None = None
    created_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, kw_only=True)
class StoredEvent(InboxEvent):
    """An event read back from the inbox."""

    seq: int
    received_at: str


@dataclass(frozen=True)
class InboxCallback:
    """One ATS callback (for example an Onderwijsregio mutation result)."""

    callback_id: str
    target: str
    idempotency_key: str | None = None
    status: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, hash=False)
    hirer_id: str = UNKNOWN_HIRER  # from the callback URL we handed out (signed with it)


@dataclass(frozen=True, kw_only=True)
class StoredCallback(InboxCallback):
    """A callback read back from the inbox."""

    seq: int
    received_at: str


@dataclass(frozen=True)
class HirerPending:
    """New work for one hirer past a seq: how many events, and the highest seq among them."""

    count: int
    max_seq: int


def check_hirers(rows: Sequence[InboxEvent | InboxCallback]) -> None:
    """The inbox's last line of defence: each row's hirer is a SEEK hirer id or `unknown_hirer`,
    else `InvalidHirerIdError` (a ValueError) and nothing of the batch is stored."""
    for row in rows:
        if row.hirer_id != UNKNOWN_HIRER:
            check_hirer_id(row.hirer_id)


def to_row(
    item: InboxEvent | InboxCallback, fields: Sequence[str], received_at: str
) -> tuple[Any, ...]:
    return (*(getattr(item, f) for f in fields), dumps_raw(item.raw), received_at)


def from_row(cls: type[_T], row: Any) -> _T:
    values = dict(row)
    values["raw"] = json.loads(values.pop("raw_json"))
    return cls(**values)


def sql_limit(limit: int | None) -> int:
    """A LIMIT both dialects take (SQLite's -1 means none; PostgreSQL refuses it)."""
    return 2**62 if limit is None else max(limit, 0)
