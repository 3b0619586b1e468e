"""The fake SEEK over real HTTP: token flow, GraphQL transport, attachment downloads."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pyrfc6266
import pytest

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer


def token_body(info: dict[str, Any], **changes: str) -> dict[str, str]:
    body = {
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "audience": info["audience"],
        "grant_type": "client_credentials",
    }
    body.update(changes)
    return body


def authed_client(sandbox: SandboxServer) -> httpx.Client:
    info = sandbox.info()
    token = httpx.post(info["seek_token_url"], json=token_body(info)).json()["access_token"]
    return httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)


def gql(client: httpx.Client, sandbox: SandboxServer, query: str, **variables: Any) -> Any:
    response = client.post(
        sandbox.info()["seek_graphql_url"], json={"query": query, "variables": variables}
    )
    assert response.status_code == 200
    return response.json()


def test_token_issued_for_good_credentials(sandbox: SandboxServer) -> None:
    info = sandbox.info()
    response = httpx.post(info["seek_token_url"], json=token_body(info))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800
    assert len(body["access_token"]) > 20


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "access_denied"),
        ({"client_id": "someone-else"}, 401, "access_denied"),
        ({"audience": "https://graphql.seek.com"}, 403, "access_denied"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_token_errors(
    sandbox: SandboxServer, changes: dict[str, str], status: int, error: str
) -> None:
    info = sandbox.info()
    response = httpx.post(info["seek_token_url"], json=token_body(info, **changes))
    assert response.status_code == status
    assert response.json()["error"] == error


def test_token_endpoint_wants_a_json_body(sandbox: SandboxServer) -> None:
    info = sandbox.info()
    response = httpx.post(info["seek_token_url"], data=token_body(info))
    assert response.status_code == 400


def test_graphql_without_token_is_unauthenticated_with_http_200(sandbox: SandboxServer) -> None:
    response = httpx.post(sandbox.info()["seek_graphql_url"], json={"query": "{ version }"})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_token_lifetime_is_configurable_and_expires() -> None:
    config = SandboxConfig(applications=2, token_lifetime_seconds=1)
    with SandboxServer(config) as short, authed_client(short) as client:
        assert gql(client, short, "{ version }")["data"]["version"]
        time.sleep(1.2)
        expired = gql(client, short, "{ version }")
    assert expired["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


EVENTS = """query ($scheme: String!, $after: String, $first: Int) {
  events(schemeId: $scheme, first: $first, after: $after) {
    edges { cursor node { id { value } typeCode } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def test_paging_to_the_end_and_resuming_from_a_cursor(sandbox: SandboxServer) -> None:
    scheme = sandbox.info()["scheme_id"]
    with authed_client(sandbox) as client:
        ids, cursors, after = [], [], None
        while True:
            page = gql(client, sandbox, EVENTS, scheme=scheme, after=after, first=25)
            page = page["data"]["events"]
            ids += [edge["node"]["id"]["value"] for edge in page["edges"]]
            cursors += [edge["cursor"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(ids) == len(sandbox.state.world.events)
        middle = len(ids) // 2
        rest = gql(client, sandbox, EVENTS, scheme=scheme, after=cursors[middle], first=100)
    resumed = [edge["node"]["id"]["value"] for edge in rest["data"]["events"]["edges"]]
    assert resumed == ids[middle + 1 : middle + 101]


def _attachment(sandbox: SandboxServer, case: str) -> tuple[str, Any]:
    application_id, attachment_id = sandbox.state.world.edge_cases[case]
    record = sandbox.state.world.attachment(application_id, attachment_id)
    path = f"/anzPublicTest/applications/{application_id}/attachments/{attachment_id}"
    url = sandbox.base_url + path
    return url, record


def _filename(disposition: str) -> str | None:
    """The exact `filename*` value (RFC 6266 gives it precedence over the ASCII fallback)."""
    _, params = pyrfc6266.parse(disposition)
    return next(p.value for p in params if p.name == "filename*")


@pytest.mark.parametrize(
    "case", ["unicode_filename", "spaces_filename", "hostile_filename", "image_png"]
)
def test_download_headers_are_exact(sandbox: SandboxServer, case: str) -> None:
    url, record = _attachment(sandbox, case)
    with authed_client(sandbox) as client:
        response = client.get(url)
        head = client.head(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == record.declared_type
    assert int(response.headers["content-length"]) == record.size == len(response.content)
    assert _filename(response.headers["content-disposition"]) == record.filename
    assert "\r" not in response.headers["content-disposition"]
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == response.headers["content-length"]
    assert head.headers["content-disposition"] == response.headers["content-disposition"]


def test_download_needs_a_token_and_removed_files_are_gone(sandbox: SandboxServer) -> None:
    url, _ = _attachment(sandbox, "spaces_filename")
    assert httpx.get(url).status_code == 401
    removed_url, record = _attachment(sandbox, "removed")
    assert record.removed
    with authed_client(sandbox) as client:
        assert client.get(removed_url).status_code == 404
        assert client.get(url.replace("/attachments/", "/attachments/nope")).status_code == 404


def test_request_counts_and_headers_are_readable(sandbox: SandboxServer) -> None:
    with authed_client(sandbox) as client:
        client.post(
            sandbox.info()["seek_graphql_url"],
            json={"query": "{ version }"},
            headers={"X-Request-Id": "req-123", "X-Session-Id": "sess-9", "User-Agent": "t/1"},
        )
    assert sandbox.count("token") == 1
    assert sandbox.count("graphql") == 1
    seen = sandbox.requests("graphql")[-1]
    assert seen.headers["x-request-id"] == "req-123"
    assert seen.headers["x-session-id"] == "sess-9"
    assert seen.headers["user-agent"] == "t/1"
    assert seen.headers["authorization"] == "<redacted>"
    via_http = httpx.get(f"{sandbox.base_url}/_sandbox/requests").json()
    assert via_http["counts"]["graphql"] == 1
