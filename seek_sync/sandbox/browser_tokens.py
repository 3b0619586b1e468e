"""Browser tokens as SEEK documents them (reference/seek-api.md, "Browser tokens").

`POST /auth/token` with a partner token and a JSON body `hirerId`, `scope` (space-separated) and
`userId` (the partner's opaque user id) answers `access_token`, `expires_in`, `token_type`; it
refuses a missing, expired or browser token (401) and a hirer we have no relationship with (403).
A browser token downloads an attachment only with the download scope and only of its own hirer; on
GraphQL it reaches only the root fields a browser scope names, every other operation (candidate
profiles, events, mutations) accepts only partner tokens.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    parse,
)

from seek_sync.sandbox.state import STATE, SandboxState
from seek_sync.sandbox.tokens import BrowserToken

DOWNLOAD_SCOPE = "download:candidate-profile-attachments"
# Root query fields a browser token may read, with the scope each needs (BT); the rest are
# partner-only. `version` needs no scope.
BROWSER_FIELDS: dict[str, str | None] = {
    "version": None,
    "self": "query:organizations",
    "hiringOrganization": "query:organizations",
    "hiringOrganizations": "query:organizations",
}


def _error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


async def browser_token(request: web.Request) -> web.Response:
    """Exchange a partner token for a browser token of one hirer, user and scope."""
    state: SandboxState = request.app[STATE]
    if not state.tokens.valid(request.headers.get("Authorization")):
        return _error(401, "invalid_token", "A live partner token is required")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    fields = ("hirerId", "scope", "userId")
    if not isinstance(body, dict) or not all(isinstance(body.get(f), str) for f in fields):
        return _error(400, "invalid_request", "Body must be JSON with hirerId, scope and userId")
    scopes = frozenset(body["scope"].split())
    if not scopes or not body["userId"].strip():
        return _error(400, "invalid_request", "scope and userId must not be empty")
    if not state.world.has_any_relationship(body["hirerId"]):
        return _error(403, "access_denied", "No relationship with this hirer")
    grant = state.tokens.issue_browser(body["hirerId"], scopes, body["userId"])
    return web.json_response(
        {
            "access_token": grant.access_token,
            "expires_in": grant.expires_in,
            "token_type": grant.token_type,
        }
    )


def may_download(token: BrowserToken, application_hirer: str | None) -> bool:
    """Whether a browser token may download an attachment of an application of this hirer."""
    return DOWNLOAD_SCOPE in token.scopes and token.hirer_id == application_hirer


def _root_fields(
    selection: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[str]:
    names: list[str] = []
    for node in selection.selections:
        if isinstance(node, FieldNode):
            names.append(node.name.value)
        elif isinstance(node, InlineFragmentNode):
            names += _root_fields(node.selection_set, fragments)
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            names += _root_fields(fragments[node.name.value].selection_set, fragments)
    return names


def refused_fields(token: BrowserToken, body: Any) -> list[str]:
    """Root fields of the request a browser token may not run (empty: let it run; a document
    that does not parse is left to the executor, which answers BAD_USER_INPUT)."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return []
    try:
        document = parse(body["query"])
    except GraphQLError:
        return []
    name = body.get("operationName")
    operation = get_operation_ast(document, name if isinstance(name, str) else None)
    if operation is None:
        return []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    fields = _root_fields(operation.selection_set, fragments)
    if operation.operation != OperationType.QUERY:
        return fields
    return [
        f
        for f in fields
        if f != "__typename"
        and (f not in BROWSER_FIELDS or (BROWSER_FIELDS[f] or "") not in token.scopes | {""})
    ]


def add_routes(app: web.Application) -> None:
    app.router.add_post("/auth/token", browser_token, name="browser_token")
