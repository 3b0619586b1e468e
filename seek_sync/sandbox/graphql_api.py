"""GraphQL execution for the fake SEEK: graphql-core over `schema.graphql`, resolved from the world.

Errors follow SEEK: HTTP 200 with `errors[].extensions.code`. BAD_USER_INPUT for a malformed body,
an invalid document, bad variables or arguments (unsupported scheme, page size outside 1..100,
`first` with `last`, an unknown cursor); FORBIDDEN, with null at that path and the rest of the data
kept, for data of a hirer without the needed relationship; null without an error for unknown ids.

Paging: `events` is in ascending stream order, `hiringOrganizations` alphabetical; 10 a page by
default, at most 100. Cursors are opaque; an events cursor names its position in the stream and its
event, so a cursor from another world is refused rather than silently misread. As SEEK documents
for some of its connections, `hasPreviousPage` is false when paging by `first` and `hasNextPage`
false when paging by `last`. `afterDateTime`/`beforeDateTime` are exclusive ("succeed"/"precede").
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from graphql import GraphQLError, GraphQLSchema, graphql
from graphql import build_schema as parse_sdl

from seek_sync.sandbox import scalars, type_resolvers
from seek_sync.sandbox.type_resolvers import (
    bad_input,
    candidate_for,
    hirer_for,
    job_for,
    profile_for,
    world_of,
)
from seek_sync.sandbox.world import Hirer, StreamEvent, World

VERSION = "sandbox-1.0.0"
DEFAULT_PAGE = 10
MAX_PAGE = 100
K = TypeVar("K")


@dataclass
class RequestContext:
    world: World
    origin: str  # e.g. "http://127.0.0.1:8123", for attachment URLs


def graphql_error(message: str, code: str, path: list[Any] | None = None) -> dict[str, Any]:
    """One entry of SEEK's `errors` array."""
    error: dict[str, Any] = {"message": message}
    if path is not None:
        error["path"] = path
    error["extensions"] = {"code": code}
    return error


# --- cursors and paging ----------------------------------------------------------------------
def encode_cursor(*parts: object) -> str:
    raw = "|".join(str(p) for p in parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, size: int) -> list[str]:
    """The parts of a cursor made by `encode_cursor(kind, ...)` with `size` parts after the kind."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    parts = raw.split("|")
    if len(parts) != size + 1 or parts[0] != kind:
        raise bad_input(f"Invalid cursor {cursor!r}")
    return parts[1:]


def page(
    items: list[tuple[K, Any]],
    args: dict[str, Any],
    key_of: Callable[[str], K],
    cursor_of: Callable[[K, Any], str],
) -> dict[str, Any]:
    """A Relay connection over `items`, (sort key, node) pairs in order."""
    first, last = args.get("first"), args.get("last")
    if first is not None and last is not None:
        raise bad_input("first and last cannot be specified in the same query")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 1 <= value <= MAX_PAGE:
            raise bad_input(f"{name} must be between 1 and {MAX_PAGE}")
    if args.get("after") is not None:
        after = key_of(args["after"])
        items = [(k, node) for k, node in items if k > after]  # type: ignore[operator]
    if args.get("before") is not None:
        before = key_of(args["before"])
        items = [(k, node) for k, node in items if k < before]  # type: ignore[operator]
    chosen = items[-last:] if last is not None else items[: first or DEFAULT_PAGE]
    edges = [{"cursor": cursor_of(k, node), "node": node} for k, node in chosen]
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": last is None and len(items) > len(chosen),
            "hasPreviousPage": last is not None and len(items) > len(chosen),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _check_scheme(world: World, scheme_id: str) -> None:
    if scheme_id != world.scheme_id:
        raise bad_input(f"schemeId {scheme_id!r} is not supported here; use {world.scheme_id!r}")


# --- root fields ---------------------------------------------------------------------------------
def resolve_events(_: Any, info: Any, schemeId: str, **args: Any) -> dict[str, Any]:
    world = world_of(info)
    _check_scheme(world, schemeId)
    stream = world.events  # one snapshot for the whole request
    flt = args.get("filter") or {}
    if flt.get("subscriptionId") is not None:
        raise bad_input("Unknown subscriptionId: the sandbox has no webhook subscriptions")
    after_dt, before_dt = flt.get("afterDateTime"), flt.get("beforeDateTime")
    types = flt.get("eventTypeCodes")
    items = [
        (i, e)
        for i, e in enumerate(stream)
        if (after_dt is None or e.stream_date_time > after_dt)
        and (before_dt is None or e.stream_date_time < before_dt)
        and (types is None or e.type_code in types)
    ]

    def key_of(cursor: str) -> int:
        index, tail = decode_cursor(cursor, "ev1", 2)
        if not index.isdigit() or int(index) >= len(stream) or stream[int(index)].id[-8:] != tail:
            raise bad_input(f"Invalid cursor {cursor!r}")
        return int(index)

    result = page(items, args, key_of, lambda i, e: encode_cursor("ev1", i, e.id[-8:]))
    for edge in result["edges"]:
        edge["streamDateTime"] = edge["node"].stream_date_time
    return result


def resolve_event(_: Any, info: Any, id: str) -> StreamEvent | None:
    return next((e for e in world_of(info).events if e.id == id), None)


def resolve_hiring_organizations(
    _: Any,
    info: Any,
    schemeId: str,
    **args: Any,
) -> dict[str, Any]:
    world = world_of(info)
    _check_scheme(world, schemeId)
    flt = args.get("filter") or {}
    codes, search = flt.get("relationshipTypeCodes"), (flt.get("nameSearch") or "").casefold()

    def sort_key(hirer: Hirer) -> tuple[str, str]:
        return hirer.name.casefold(), hirer.id

    related = sorted((h for h in world.hirers.values() if h.relationship_codes), key=sort_key)
    items = [
        (sort_key(h), h)
        for h in related
        if search in h.name.casefold() and (codes is None or set(codes) & set(h.relationship_codes))
    ]

    def key_of(cursor: str) -> tuple[str, str]:
        (hirer_id,) = decode_cursor(cursor, "ho1", 1)
        if hirer_id not in world.hirers:
            raise bad_input(f"Invalid cursor {cursor!r}")
        return sort_key(world.hirers[hirer_id])

    return page(items, args, key_of, lambda _k, h: encode_cursor("ho1", h.id))


ROOT: dict[str, Callable[..., Any]] = {
    "version": lambda *_: VERSION,
    "events": resolve_events,
    "event": resolve_event,
    "candidateProfile": lambda _, info, id: profile_for(world_of(info), id, count=True),
    "candidate": lambda _, info, id: candidate_for(world_of(info), id),
    "positionProfile": lambda _, info, id: job_for(world_of(info), id),
    "hiringOrganization": lambda _, info, id: hirer_for(world_of(info), id),
    "hiringOrganizations": resolve_hiring_organizations,
}


@cache
def build_schema() -> GraphQLSchema:
    """The executable schema: our SDL with SEEK's scalars and the resolvers bound (built once)."""
    schema = parse_sdl((Path(__file__).parent / "schema.graphql").read_text(encoding="utf-8"))
    scalars.bind(schema)
    assert schema.query_type is not None
    for name, resolver in ROOT.items():
        schema.query_type.fields[name].resolve = resolver
    type_resolvers.bind(schema)
    return schema


# --- execution -------------------------------------------------------------------------------
def _format(error: GraphQLError) -> dict[str, Any]:
    formatted = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if "code" not in extensions:
        if error.path is None:  # the document or the variables: the caller's mistake
            extensions["code"] = "BAD_USER_INPUT"
        else:  # a resolver failed unexpectedly: our bug, reported without internals
            extensions["code"] = "INTERNAL_SERVER_ERROR"
            formatted["message"] = "Internal server error"
    formatted["extensions"] = extensions
    return formatted


async def execute_graphql(ctx: RequestContext, body: Any) -> dict[str, Any]:
    """Run one GraphQL POST body; the result is the JSON body SEEK would answer (with HTTP 200)."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        message = "The request body must be a JSON object with a string `query`"
        return {"errors": [graphql_error(message, "BAD_USER_INPUT")]}
    variables, operation = body.get("variables"), body.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        return {"errors": [graphql_error("`variables` must be a JSON object", "BAD_USER_INPUT")]}
    if operation is not None and not isinstance(operation, str):
        return {"errors": [graphql_error("`operationName` must be a string", "BAD_USER_INPUT")]}
    result = await graphql(
        build_schema(),
        body["query"],
        variable_values=variables,
        operation_name=operation,
        context_value=ctx,
        field_resolver=type_resolvers.field_resolver,
    )
    response: dict[str, Any] = {}
    errors = result.errors or []
    if result.data is not None or any(e.path is not None for e in errors):
        response["data"] = result.data  # absent when the request failed before execution
    if errors:
        response["errors"] = [_format(e) for e in errors]
    return response
