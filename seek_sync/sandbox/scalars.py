"""SEEK's custom scalars: `DateTime` (UTC, ms, `Z`), `HistoryDate` and `Date`; bad input refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, GraphQLScalarType, GraphQLSchema, StringValueNode, ValueNode

HISTORY_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


def serialize_datetime(value: Any) -> str:
    if not isinstance(value, datetime):
        raise GraphQLError("DateTime must be a datetime")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise GraphQLError("DateTime must be an RFC 3339 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise GraphQLError(f"Invalid DateTime {value!r}") from None
    if parsed.tzinfo is None:
        raise GraphQLError("DateTime needs a time zone (Z or an offset)")
    return parsed.astimezone(UTC)


def _pattern(name: str, pattern: re.Pattern[str]) -> tuple[Any, Any]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise GraphQLError(f"Invalid {name} {value!r}")
        return value

    return check, check


def _literal(parse: Any) -> Any:
    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        if not isinstance(node, StringValueNode):
            raise GraphQLError("Expected a string literal")
        return parse(node.value)

    return parse_literal


def bind(schema: GraphQLSchema) -> None:
    """Give the SDL's scalars their serialisation and input validation."""
    history = _pattern("HistoryDate", HISTORY_DATE)
    date = _pattern("Date", DATE)
    behaviour = {
        "DateTime": (serialize_datetime, parse_datetime),
        "HistoryDate": history,
        "Date": date,
    }
    for name, (serialize, parse) in behaviour.items():
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        scalar.serialize = serialize  # type: ignore[method-assign]
        scalar.parse_value = parse  # type: ignore[method-assign]
        scalar.parse_literal = _literal(parse)  # type: ignore[method-assign]
