"""SEEK's custom scalars, strict both ways.

- `DateTime`: served as UTC RFC 3339 with milliseconds and `Z` (`2026-11-20T03:04:05.123Z`);
  accepted as RFC 3339 with `Z` or a numeric offset, never without a zone.
- `HistoryDate`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a real calendar date.

Bad input raises GraphQLError, which graphql-core reports without a path (so BAD_USER_INPUT).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from graphql import GraphQLError, GraphQLScalarType, GraphQLSchema, StringValueNode, ValueNode

RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)
HISTORY_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def serialize_datetime(value: Any) -> str:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise GraphQLError(f"DateTime cannot represent {value!r}")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_datetime(value: Any) -> datetime:
    match = RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise GraphQLError(f"DateTime must be an RFC 3339 date-time with a zone: {value!r}")
    day, clock, fraction, zone = match.groups()
    micro = (fraction or "").ljust(6, "0")[:6]
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        return datetime.fromisoformat(f"{day}T{clock}.{micro}{zone}").astimezone(UTC)
    except ValueError:
        raise GraphQLError(f"Invalid DateTime {value!r}") from None


def check_history_date(value: Any) -> str:
    match = HISTORY_DATE.match(value) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError(value)
        year, month, day = match.groups()
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise GraphQLError(f"HistoryDate must be YYYY, YYYY-MM or YYYY-MM-DD: {value!r}") from None
    return value


def _literal(parse: Any) -> Any:
    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        if not isinstance(node, StringValueNode):
            raise GraphQLError("Expected a string")
        return parse(node.value)

    return parse_literal


def bind(schema: GraphQLSchema) -> None:
    """Give the SDL's scalars their serialisation and input validation."""
    behaviour = {
        "DateTime": (serialize_datetime, parse_datetime),
        "HistoryDate": (check_history_date, check_history_date),
    }
    for name, (serialize, parse) in behaviour.items():
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        scalar.serialize = serialize  # type: ignore[method-assign]
        scalar.parse_value = parse  # type: ignore[method-assign]
        scalar.parse_literal = _literal(parse)  # type: ignore[method-assign]
