"""The fake SEEK's browser tokens over real HTTP: issued for a related hirer only, downloading only
that hirer's attachments, refused on partner-only GraphQL operations, expiring."""

from __future__ import annotations

import time

import httpx
import pytest

from seek_sync.sandbox.browser_tokens import DOWNLOAD_SCOPE
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.sandbox.world import AttachmentRecord
from tests.sandbox.test_seek_http import authed_client, token_body


def partner_token(sandbox: SandboxServer) -> str:
    info = sandbox.info()
    return httpx.post(info["seek_token_url"], json=token_body(info)).json()["access_token"]


def browser_token(
    sandbox: SandboxServer, hirer_id: str, scope: str = DOWNLOAD_SCOPE, *, auth: str | None = None
) -> httpx.Response:
    token = partner_token(sandbox) if auth is None else auth
    return httpx.post(
        sandbox.info()["seek_browser_token_url"],
        json={"hirerId": hirer_id, "scope": scope, "userId": "user-7f3a"},
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )


def attachment_of(sandbox: SandboxServer, hirer_id: str) -> AttachmentRecord:
    return next(
        att
        for app in sandbox.state.world.applications.values()
        if app.hirer_id == hirer_id and not app.deleted
        for att in app.attachments
        if not att.removed
    )


def url_of(sandbox: SandboxServer, record: AttachmentRecord) -> str:
    return (
        f"{sandbox.base_url}/anzPublicTest/applications/"
        f"{record.application_id}/attachments/{record.id}"
    )


def two_hirers(sandbox: SandboxServer) -> tuple[str, str]:
    related = [h.id for h in sandbox.state.world.hirers.values() if h.relationship]
    with_files = [h for h in related if any(a.hirer_id == h for a in _apps(sandbox))]
    return with_files[0], with_files[1]


def _apps(sandbox: SandboxServer) -> list:  # type: ignore[type-arg]
    return [a for a in sandbox.state.world.applications.values() if a.attachments]


def get(url: str, token: str, method: str = "GET") -> httpx.Response:
    return httpx.request(method, url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_browser_token_downloads_its_hirers_attachment_only(sandbox: SandboxServer) -> None:
    hirer_a, hirer_b = two_hirers(sandbox)
    response = browser_token(sandbox, hirer_a)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    token = body["access_token"]
    mine, theirs = attachment_of(sandbox, hirer_a), attachment_of(sandbox, hirer_b)
    for method in ("GET", "HEAD"):
        ok = get(url_of(sandbox, mine), token, method)
        assert ok.status_code == 200, method
        assert int(ok.headers["Content-Length"]) == mine.size
        assert get(url_of(sandbox, theirs), token, method).status_code == 403, method
    assert len(get(url_of(sandbox, mine), token).content) == mine.size
    # Positive control: the partner token downloads both.
    partner = partner_token(sandbox)
    assert get(url_of(sandbox, theirs), partner).status_code == 200


def test_browser_token_without_download_scope_is_refused(sandbox: SandboxServer) -> None:
    hirer_a, _ = two_hirers(sandbox)
    token = browser_token(sandbox, hirer_a, "query:organizations").json()["access_token"]
    url = url_of(sandbox, attachment_of(sandbox, hirer_a))
    assert get(url, token).status_code == 403
    both = browser_token(sandbox, hirer_a, f"query:organizations {DOWNLOAD_SCOPE}").json()
    assert get(url, both["access_token"]).status_code == 200


def test_browser_token_refusals(sandbox: SandboxServer) -> None:
    hirer_a, _ = two_hirers(sandbox)
    unrelated = next(h.id for h in sandbox.state.world.hirers.values() if not h.relationship_codes)
    assert browser_token(sandbox, unrelated).status_code == 403
    assert browser_token(sandbox, hirer_a, auth="").status_code == 401
    assert browser_token(sandbox, hirer_a, auth="not-a-token").status_code == 401
    # A browser token cannot mint another one: it is not a partner token.
    browser = browser_token(sandbox, hirer_a).json()["access_token"]
    assert browser_token(sandbox, hirer_a, auth=browser).status_code == 401
    partner = partner_token(sandbox)
    bad = httpx.post(
        sandbox.info()["seek_browser_token_url"],
        json={"hirerId": hirer_a, "scope": ""},
        headers={"Authorization": f"Bearer {partner}"},
    )
    assert bad.status_code == 400
    assert sandbox.count("browser_token") == 6
    assert sandbox.state.tokens.browser_issued >= 1


def test_graphql_refuses_browser_tokens_on_partner_only_operations(
    sandbox: SandboxServer,
) -> None:
    hirer_a, _ = two_hirers(sandbox)
    scope = f"query:organizations {DOWNLOAD_SCOPE}"
    token = browser_token(sandbox, hirer_a, scope).json()["access_token"]
    url = sandbox.info()["seek_graphql_url"]
    profile_id = next(a.profile_id for a in _apps(sandbox) if a.hirer_id == hirer_a)
    profile = {
        "query": "query($id: String!) { candidateProfile(id: $id) { profileId { value } } }",
        "variables": {"id": profile_id},
    }
    headers = {"Authorization": f"Bearer {token}"}
    refused = httpx.post(url, json=profile, headers=headers).json()
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["errors"][0]["path"] == ["candidateProfile"]
    events = {"query": '{ events(schemeId: "seekAnzPublicTest") { edges { cursor } } }'}
    assert httpx.post(url, json=events, headers=headers).json()["errors"][0]["extensions"][
        "code"
    ] == ("FORBIDDEN")
    hirer = {
        "query": "query($id: String!) { hiringOrganization(id: $id) { name } }",
        "variables": {"id": hirer_a},
    }
    allowed = httpx.post(url, json=hirer, headers=headers).json()
    assert "errors" not in allowed and allowed["data"]["hiringOrganization"]["name"]
    # Positive control: the partner token reads the profile.
    with authed_client(sandbox) as client:
        data = client.post(url, json=profile).json()
    assert data["data"]["candidateProfile"]["profileId"]["value"] == profile_id


def test_browser_tokens_expire() -> None:
    config = SandboxConfig(applications=12, browser_token_lifetime_seconds=1)
    with SandboxServer(config) as sandbox:
        hirer_a, _ = two_hirers(sandbox)
        body = browser_token(sandbox, hirer_a).json()
        assert body["expires_in"] == 1
        url = url_of(sandbox, attachment_of(sandbox, hirer_a))
        assert get(url, body["access_token"], "HEAD").status_code == 200
        time.sleep(1.2)
        assert get(url, body["access_token"], "HEAD").status_code == 401
        fresh = browser_token(sandbox, hirer_a).json()["access_token"]
        assert get(url, fresh, "HEAD").status_code == 200


@pytest.mark.parametrize("scope", ["", "   "])
def test_empty_scope_is_refused(sandbox: SandboxServer, scope: str) -> None:
    hirer_a, _ = two_hirers(sandbox)
    assert browser_token(sandbox, hirer_a, scope).status_code == 400
