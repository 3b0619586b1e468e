"""GraphQL over HTTP to SEEK: tracing headers, retries, and one token refresh on UNAUTHENTICATED."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from seek_sync.http import RetryPolicy, Tracing, raise_for_retryable
from seek_sync.seek.auth import PartnerTokenProvider
from seek_sync.seek.errors import (
    MalformedResponseError,
    RetryableHTTPError,
    SeekError,
    SeekGraphQLError,
    SeekTransportError,
    UnexpectedStatusError,
)
from seek_sync.seek.models import GraphQLErrorItem, GraphQLResponse

log = logging.getLogger("seek_sync.seek")


@dataclass(frozen=True)
class GraphQLResult:
    """Data and errors of one call (SEEK may return partial data beside errors)."""

    data: dict[str, Any]
    errors: list[GraphQLErrorItem]
    request_id: str

    def raise_first(self) -> None:
        if self.errors:
            first = self.errors[0]
            raise SeekGraphQLError(
                first.code, first.message, path=first.path, request_id=self.request_id
            )


class SeekGraphQLClient:
    """Runs queries against SEEK's GraphQL endpoint on a caller-supplied `httpx.AsyncClient`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        url: str,
        tokens: PartnerTokenProvider,
        tracing: Tracing | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self._url = url
        self.tokens = tokens
        self._tracing = tracing or Tracing()
        self._policy = policy or RetryPolicy()

    async def query(
        self, query: str, variables: dict[str, Any] | None = None, *, session_id: str | None = None
    ) -> dict[str, Any]:
        """Data of a query that must succeed whole; raises `SeekGraphQLError` on any error."""
        result = await self.execute(query, variables, session_id=session_id)
        result.raise_first()
        return result.data

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, session_id: str | None = None
    ) -> GraphQLResult:
        """Data and errors; an UNAUTHENTICATED answer refreshes the token and retries once."""
        result, token = await self._attempt(query, variables, session_id)
        if any(e.code == "UNAUTHENTICATED" for e in result.errors):
            log.info("SEEK token rejected (request id %s); refreshing once", result.request_id)
            await self.tokens.refresh(token)
            result, _ = await self._attempt(query, variables, session_id)
        for error in result.errors:
            log.warning(
                "SEEK GraphQL error %s at %s (request id %s)",
                error.code,
                error.path,
                result.request_id,
            )
        return result

    async def _attempt(
        self, query: str, variables: dict[str, Any] | None, session_id: str | None
    ) -> tuple[GraphQLResult, str]:
        """One logical request (retried on transient failures) and the token it used."""
        async for attempt in self._policy.retrying(SeekError.service, log):
            with attempt:
                return await self._post(query, variables, session_id)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _post(
        self, query: str, variables: dict[str, Any] | None, session_id: str | None
    ) -> tuple[GraphQLResult, str]:
        token = await self.tokens.token()
        headers = self._tracing.headers(session_id)
        headers["Authorization"] = f"Bearer {token}"
        request_id = headers["X-Request-Id"]
        payload: dict[str, Any] = {"query": query}
        if variables:
            # SEEK asks that unused optional arguments be omitted rather than sent as null.
            payload["variables"] = {k: v for k, v in variables.items() if v is not None}
        try:
            response = await self._http.post(self._url, json=payload, headers=headers)
        except httpx.TransportError as error:
            raise SeekTransportError(error, request_id=request_id) from None
        raise_for_retryable(response, request_id, RetryableHTTPError)
        if response.status_code != 200:
            raise UnexpectedStatusError(response.status_code, "GraphQL", request_id=request_id)
        try:
            body = GraphQLResponse.model_validate_json(response.content)
        except ValidationError:
            raise MalformedResponseError(
                "GraphQL response is not {data, errors}", request_id=request_id
            ) from None
        if body.data is None and not body.errors:
            raise MalformedResponseError("GraphQL response has no data", request_id=request_id)
        result = GraphQLResult(data=body.data or {}, errors=body.errors, request_id=request_id)
        return result, token
