"""HTTP client of the Onderwijsregio v2 API: `x-api-key`, the `{statusCode, message, data, meta}`
envelope, and mutations answered 202 with an idempotency key.

Where a wire detail is unconfirmed (attachment item fields, where the idempotency key and callback
URL travel, the DELETE body) the client reads it from settings; docs/ats.md "ATS assumptions"
lists them. A mutation is retried with the SAME idempotency key, so a lost 202 never applies twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from seek_sync.ats.errors import (
    AtsMalformedResponse,
    AtsStatusError,
    AtsTransportError,
    RetryableAtsStatus,
)
from seek_sync.http import RetryPolicy, raise_for_retryable, request_headers
from seek_sync.settings import Settings

log = logging.getLogger("seek_sync.ats.onderwijsregio")
SERVICE = "Onderwijsregio"


class Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")

    status_code: int = Field(alias="statusCode")
    message: str = ""
    data: Any = None
    meta: dict[str, Any] = Field(default_factory=dict)


class StoredAttachment(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    filename: str | None = None
    size: int | None = None
    type: str | None = None


class OrCandidate(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str
    email: str | None = None
    curriculum_vitae: list[StoredAttachment] = Field(default_factory=list, alias="curriculumVitae")
    other_attachments: list[StoredAttachment] = Field(
        default_factory=list, alias="otherAttachments"
    )

    def attachments(self) -> list[StoredAttachment]:
        return [*self.curriculum_vitae, *self.other_attachments]


class RefusedError(Exception):
    """The API refused the request (4xx other than 404/429): fixing input, not retrying, helps.

    Deliberately not an `AtsError`: the target records an `AtsError` (the service failed or
    answered garbage) and stops, while it handles a refused write where it makes it and lets a
    refused read propagate."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"Onderwijsregio refused the request (HTTP {status}): {message}")


class OnderwijsregioClient:
    """Thin, typed access to the endpoints the target uses."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: SecretStr,
        settings: Settings,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._api_key = api_key
        self.settings = settings
        self._policy = policy or RetryPolicy.from_settings(settings)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Envelope | None:
        """One logical call (retried on transient failures); None for a 404."""
        async for attempt in self._policy.retrying(SERVICE, log):
            with attempt:
                return await self._once(method, path, json, params, headers or {})
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _once(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, str] | None,
        extra: dict[str, str],
    ) -> Envelope | None:
        traced = request_headers()
        request_id = traced["X-Request-Id"]
        headers = {"x-api-key": self._api_key.get_secret_value(), **traced, **extra}
        try:
            response = await self._http.request(
                method, self._base + path, json=json, params=params, headers=headers
            )
        except httpx.TransportError as error:
            raise AtsTransportError(error, service=SERVICE, request_id=request_id) from None
        raise_for_retryable(response, request_id, RetryableAtsStatus, service=SERVICE)
        if response.status_code == 404:
            return None
        try:
            envelope = Envelope.model_validate_json(response.content)
        except ValidationError:
            if response.status_code >= 400:
                raise AtsStatusError(
                    response.status_code, service=SERVICE, request_id=request_id
                ) from None
            raise AtsMalformedResponse(
                "Onderwijsregio answered outside its envelope", service=SERVICE
            ) from None
        if 400 <= response.status_code < 500:
            raise RefusedError(response.status_code, envelope.message)
        if response.status_code >= 500:
            raise AtsStatusError(response.status_code, service=SERVICE, request_id=request_id)
        return envelope

    # --- reads ------------------------------------------------------------------------------
    async def find_by_email(self, email: str) -> OrCandidate | None:
        envelope = await self._call("GET", "/candidates/find", params={"email": email})
        return self._candidate(envelope)

    async def get(self, candidate_id: str) -> OrCandidate | None:
        return self._candidate(await self._call("GET", f"/candidates/{candidate_id}"))

    @staticmethod
    def _candidate(envelope: Envelope | None) -> OrCandidate | None:
        if envelope is None or envelope.data is None:
            return None
        data = envelope.data[0] if isinstance(envelope.data, list) else envelope.data
        try:
            return OrCandidate.model_validate(data)
        except ValidationError:
            raise AtsMalformedResponse(
                "Onderwijsregio candidate has no id", service=SERVICE
            ) from None

    # --- mutations (202 + idempotency key) -------------------------------------------------
    def _mutation_headers(self, key: str, callback_url: str | None) -> dict[str, str]:
        """ASSUMPTION (unconfirmed): the key and the callback URL travel as request headers."""
        headers = {self.settings.onderwijsregio_idempotency_header: key}
        if callback_url:
            headers[self.settings.onderwijsregio_callback_url_header] = callback_url
        return headers

    async def create(self, candidate: dict[str, Any], *, key: str, callback_url: str | None) -> str:
        """`POST /candidates` with one candidate (attachments inline); returns the accepted key."""
        envelope = await self._call(
            "POST",
            "/candidates",
            json=[candidate],
            headers=self._mutation_headers(key, callback_url),
        )
        return self._accepted(envelope, key)

    async def add_attachments(
        self,
        candidate_id: str,
        fields: dict[str, list[dict[str, str]]],
        *,
        key: str,
        callback_url: str | None,
    ) -> str:
        """`POST /candidates/{id}/attachments`; returns the accepted key."""
        envelope = await self._call(
            "POST",
            f"/candidates/{candidate_id}/attachments",
            json=fields,
            headers=self._mutation_headers(key, callback_url),
        )
        return self._accepted(envelope, key)

    async def delete_attachments(
        self,
        candidate_id: str,
        attachment_ids: Sequence[str],
        *,
        key: str,
        callback_url: str | None,
    ) -> str:
        """`DELETE /candidates/{id}/attachments` (files are replaced by delete, then upload).

        ASSUMPTION (unconfirmed): the body is `{<SEEK_SYNC_ONDERWIJSREGIO_DELETE_FIELD>: [ids]}`.
        """
        envelope = await self._call(
            "DELETE",
            f"/candidates/{candidate_id}/attachments",
            json={self.settings.onderwijsregio_delete_field: list(attachment_ids)},
            headers=self._mutation_headers(key, callback_url),
        )
        return self._accepted(envelope, key)

    @staticmethod
    def _accepted(envelope: Envelope | None, key: str) -> str:
        if envelope is None:
            raise RefusedError(404, "candidate not found")
        if envelope.status_code != 202:
            raise AtsMalformedResponse(
                f"expected 202, got statusCode {envelope.status_code}", service=SERVICE
            )
        data = envelope.data if isinstance(envelope.data, dict) else {}
        return str(data.get("idempotencyKey") or key)
