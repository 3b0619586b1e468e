"""GraphQL execution for the fake SEEK: graphql-core over `schema.graphql`, resolved from the world.

Errors follow SEEK: HTTP 200 with `errors[].extensions.code` — BAD_USER_INPUT for invalid
documents, variables and arguments, FORBIDDEN for data of a hirer without an ApplicationExport
relationship (with null data at that path), and null without an error for unknown ids.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    graphql,
)
from graphql import (
    build_schema as parse_sdl,
)

from seek_sync.sandbox import scalars
from seek_sync.sandbox.world import Application, StreamEvent, World

VERSION = "sandbox-1.0.0"
MAX_PAGE = 100


@dataclass
class RequestContext:
    world: World
    origin: str  # e.g. "http://127.0.0.1:8123", for attachment URLs


def graphql_error(message: str, code: str, path: list[Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "extensions": {"code": code}}
    if path is not None:
        error["path"] = path
    return error


def _bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def _forbidden(what: str) -> GraphQLError:
    return GraphQLError(
        f"No ApplicationExport relationship with the hirer of this {what}",
        extensions={"code": "FORBIDDEN"},
    )


# --- cursors and paging ---------------------------------------------------------------------------
def encode_cursor(kind: str, index: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{index}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, index = base64.urlsafe_b64decode(padded).decode().split(":")
        if name != kind:
            raise ValueError(name)
        return int(index)
    except (ValueError, UnicodeDecodeError) as error:
        raise _bad_input("Invalid cursor") from error


def page(kind: str, items: list[tuple[int, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """Relay paging over (stable index, item) pairs in order, as SEEK's connections do."""
    first, last = args.get("first"), args.get("last")
    if first is not None and last is not None:
        raise _bad_input("first and last are mutually exclusive")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 1 <= value <= MAX_PAGE:
            raise _bad_input(f"{name} must be between 1 and {MAX_PAGE}")
    if args.get("after") is not None:
        after = decode_cursor(kind, args["after"])
        items = [(i, item) for i, item in items if i > after]
    if args.get("before") is not None:
        before = decode_cursor(kind, args["before"])
        items = [(i, item) for i, item in items if i < before]
    total = len(items)
    chosen = items[-last:] if last is not None else items[: first or 10]
    edges = [{"cursor": encode_cursor(kind, i), "node": item} for i, item in chosen]
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": last is None and total > len(chosen),
            "hasPreviousPage": last is not None and total > len(chosen),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


# --- root resolvers ------------------------------------------------------------------------
def _world(info: Any) -> World:
    return info.context.world


def _check_scheme(world: World, scheme_id: str) -> None:
    if scheme_id != world.scheme_id:
        raise _bad_input(f"Unsupported schemeId {scheme_id!r}")


def resolve_events(_: Any, info: Any, schemeId: str, **args: Any) -> dict[str, Any]:
    world = _world(info)
    _check_scheme(world, schemeId)
    flt = args.get("filter") or {}
    after_dt, before_dt = flt.get("afterDateTime"), flt.get("beforeDateTime")
    types = flt.get("eventTypeCodes")
    items = [
        (i, e)
        for i, e in enumerate(world.events_snapshot())
        if (after_dt is None or e.stream_date_time >= after_dt)
        and (before_dt is None or e.stream_date_time < before_dt)
        and (types is None or e.type_code in types)
    ]
    result = page("event", items, args)
    for edge in result["edges"]:
        edge["streamDateTime"] = edge["node"].stream_date_time
    return result


def resolve_event(_: Any, info: Any, id: str) -> StreamEvent | None:
    return next((e for e in _world(info).events_snapshot() if e.id == id), None)


def _profile(world: World, profile_id: str, what: str = "candidate profile") -> Application | None:
    application = world.applications.get(profile_id)
    if application is not None and not world.has_relationship(application.hirer_id):
        raise _forbidden(what)
    return application


def resolve_candidate_profile(_: Any, info: Any, id: str) -> Application | None:
    return _profile(_world(info), id)


def resolve_candidate(_: Any, info: Any, id: str) -> Any:
    world = _world(info)
    candidate = world.candidates.get(id)
    if candidate is not None and not world.has_relationship(candidate.hirer_id):
        raise _forbidden("candidate")
    return candidate


def resolve_position_profile(_: Any, info: Any, id: str) -> Any:
    world = _world(info)
    job = world.jobs.get(id)
    if job is not None and not world.has_relationship(job.hirer_id):
        raise _forbidden("position profile")
    return job


def resolve_hiring_organization(_: Any, info: Any, id: str) -> Any:
    world = _world(info)
    hirer = world.hirers.get(id)
    if hirer is not None and not hirer.relationship:
        raise _forbidden("hiring organization")
    return hirer


def resolve_hiring_organizations(_: Any, info: Any, schemeId: str, **args: Any) -> Any:
    world = _world(info)
    _check_scheme(world, schemeId)
    flt = args.get("filter") or {}
    codes, search = flt.get("relationshipTypeCodes"), (flt.get("nameSearch") or "").lower()
    hirers = sorted(world.hirers.values(), key=lambda h: (h.name.lower(), h.id))
    items = [
        (i, h)
        for i, h in enumerate(hirers)
        if search in h.name.lower()
        and (codes is None or ("ApplicationExport" in codes and h.relationship))
    ]
    return page("hirer", items, args)


ROOT = {
    "version": lambda *_: VERSION,
    "events": resolve_events,
    "event": resolve_event,
    "candidateProfile": resolve_candidate_profile,
    "candidate": resolve_candidate,
    "positionProfile": resolve_position_profile,
    "hiringOrganization": resolve_hiring_organization,
    "hiringOrganizations": resolve_hiring_organizations,
}


@cache
def build_schema() -> GraphQLSchema:
    """The executable schema: our SDL with resolvers and SEEK's scalars bound."""
    from seek_sync.sandbox import type_resolvers

    schema = parse_sdl((Path(__file__).parent / "schema.graphql").read_text(encoding="utf-8"))
    scalars.bind(schema)
    for name, resolver in ROOT.items():
        schema.query_type.fields[name].resolve = resolver  # type: ignore[union-attr]
    type_resolvers.bind(schema)
    return schema


def _format(error: GraphQLError) -> dict[str, Any]:
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    extensions.setdefault(
        "code", "BAD_USER_INPUT" if error.path is None else "INTERNAL_SERVER_ERROR"
    )
    formatted["extensions"] = extensions
    return dict(formatted)


async def execute_graphql(ctx: RequestContext, body: Any) -> dict[str, Any]:
    """Run one GraphQL POST body; the result is the JSON body SEEK would answer (HTTP 200)."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return {
            "errors": [graphql_error("Body must be a JSON object with a query", "BAD_USER_INPUT")]
        }
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return {"errors": [graphql_error("variables must be an object", "BAD_USER_INPUT")]}
    result = await graphql(
        build_schema(),
        body["query"],
        variable_values=variables,
        operation_name=body.get("operationName"),
        context_value=ctx,
    )
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        response["errors"] = [_format(e) for e in result.errors]
    return response
