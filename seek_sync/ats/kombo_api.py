"""Kombo's unified ATS API through the official `kombo` SDK (async, the SDK's own retries off).

Every call is translated into one error type, `KomboCallError`, carrying Kombo's `error.code`. A
call is retried (tenacity, bounded by the retry settings) only on what Kombo calls safe: the rate
and concurrency limits, `REMOTE.SERVICE_UNAVAILABLE` and a bare load-balancer 503. A dropped
connection is retried for reads and for creating an application (a repeat answers
`ATS.APPLICATION_ALREADY_EXISTS`), but never for an attachment upload: Kombo has no idempotency,
so the caller reads the attachments back first. The API key never appears in an error or a log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx
import tenacity
from kombo import Kombo, errors
from kombo.utils import BackoffStrategy, RetryConfig
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from seek_sync.ats.errors import AtsError
from seek_sync.ats.kombo_files import Restrictions, StoredAttachment
from seek_sync.http import RetryPolicy, retry_after_seconds

log = logging.getLogger("seek_sync.ats.kombo")
SERVICE = "Kombo"

T = TypeVar("T")
SAFE_CODES = frozenset(
    {
        "PLATFORM.RATE_LIMIT_EXCEEDED",
        "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
        "REMOTE.RATE_LIMIT_EXCEEDED",
        "REMOTE.SERVICE_UNAVAILABLE",
    }
)
ALREADY_EXISTS = "ATS.APPLICATION_ALREADY_EXISTS"
NO_SDK_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1.0, 1), False)
RESTRICTIONS_ACTION = "ats_add_application_attachment"


class KomboCallError(AtsError):
    """A Kombo call that did not succeed: the code (or status), and whether a retry is safe."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retryable: bool = False,
        unknown: bool = False,
        retry_after: float | None = None,
    ) -> None:
        self.code, self.status = code, status
        self.retryable, self.unknown, self.retry_after = retryable, unknown, retry_after
        super().__init__(message, service=SERVICE)


class _ActionData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    attachment_restrictions: Restrictions = Field(default_factory=Restrictions)


class _ActionBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    data: _ActionData


class KomboPerson(BaseModel):
    """A Kombo candidate and its applications by job id."""

    id: str
    applications: dict[str, str] = Field(default_factory=dict)  # job id -> application id


class KomboApi:
    """The calls the Kombo target makes; this instance's writes share one semaphore."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: SecretStr,
        integration_id: str,
        policy: RetryPolicy,
        write_concurrency: int = 8,
        writes: asyncio.Semaphore | None = None,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._key = api_key
        self._integration = integration_id
        self.policy = policy
        self.writes = writes or asyncio.Semaphore(write_concurrency)  # may be shared
        self.sdk = Kombo(
            api_key=api_key.get_secret_value,
            integration_id=integration_id,
            server_url=self._base,
            async_client=http,
            retry_config=NO_SDK_RETRIES,
        )

    # --- errors and retries ----------------------------------------------------------------
    def scrub(self, text: str) -> str:
        secret = self._key.get_secret_value()
        return text.replace(secret, "<redacted>") if secret else text

    def _translate(self, error: Exception, what: str, *, write: bool) -> KomboCallError:
        if isinstance(error, errors.KomboAtsError):
            code, status = error.data.error.code, error.status_code
            message = self.scrub(str(error.data.error.message or ""))[:300]
            return KomboCallError(
                f"Kombo {what}: {code or f'HTTP {status}'}: {message}",
                code=code,
                status=status,
                retryable=code in SAFE_CODES,
                retry_after=retry_after_seconds(error.raw_response),
            )
        if isinstance(error, errors.SDKError) and error.status_code >= 400:
            status = error.status_code
            return KomboCallError(
                f"Kombo {what}: HTTP {status} without a Kombo error body",
                status=status,
                retryable=status == 503,
                retry_after=retry_after_seconds(error.raw_response),
            )
        if isinstance(error, httpx.TransportError | errors.NoResponseError):
            return KomboCallError(
                f"Kombo {what}: no answer ({type(error).__name__})",
                retryable=not write,
                unknown=write,
            )
        return KomboCallError(f"Kombo {what}: malformed answer ({type(error).__name__})")

    def retrying(self, *, safe: bool = True, unknown: bool = False) -> tenacity.AsyncRetrying:
        """Retry the safe codes (`safe`) and/or writes whose outcome is unknown (`unknown`)."""

        def worth_it(error: BaseException) -> bool:
            return isinstance(error, KomboCallError) and (
                (safe and error.retryable) or (unknown and error.unknown)
            )

        return self.policy.retrying(SERVICE, log, retry=worth_it, describe=_describe)

    async def _once(self, what: str, call: Callable[[], Awaitable[T]], *, write: bool = False) -> T:
        try:
            if write:
                async with self.writes:
                    return await call()
            return await call()
        except (
            errors.SDKError,
            errors.NoResponseError,
            httpx.TransportError,
            ValidationError,
        ) as e:
            raise self._translate(e, what, write=write) from None

    async def _call(self, what: str, call: Callable[[], Awaitable[T]], *, write: bool = False) -> T:
        """One logical call, retried on the safe codes (and, for reads, dropped connections)."""
        async for attempt in self.retrying():
            with attempt:
                return await self._once(what, call, write=write)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    # --- reads ---------------------------------------------------------------------------
    async def find_by_email(self, email: str) -> list[KomboPerson]:
        """Candidates whose email addresses include `email` (Kombo matches case-insensitively)."""
        ats = self.sdk.ats
        page = await self._call(
            "candidate lookup", lambda: ats.get_candidates_async(email=email, page_size=50)
        )
        if page is None:
            return []
        people = []
        for found in page.result.data.results:
            apps = {a.job.id: a.id for a in found.applications if a.job is not None}
            people.append(KomboPerson(id=found.id, applications=apps))
        return people

    async def attachments(self, application_id: str) -> list[StoredAttachment]:
        ats = self.sdk.ats
        answer = await self._call(
            "attachment read-back",
            lambda: ats.get_application_attachments_async(application_id=application_id),
        )
        return [
            StoredAttachment(
                id=a.id, file_name=a.file_name, type=str(a.type), content_type=a.content_type
            )
            for a in answer.data.results
        ]

    async def restrictions(self) -> Restrictions:
        """`GET /ats/actions/ats_add_application_attachment` (no SDK method): per-type limits."""
        return await self._call("attachment restrictions", self._restrictions_once)

    async def _restrictions_once(self) -> Restrictions:
        headers = {
            "Authorization": f"Bearer {self._key.get_secret_value()}",
            "X-Integration-Id": self._integration,
            "Accept": "application/json",
        }
        url = f"{self._base}/ats/actions/{RESTRICTIONS_ACTION}"
        response = await self._http.get(url, headers=headers)
        if response.status_code != 200:
            try:
                data = errors.KomboAtsErrorData.model_validate_json(response.content)
            except ValidationError:
                raise errors.SDKError("no Kombo body", response) from None
            raise errors.KomboAtsError(data, response)
        return _ActionBody.model_validate_json(response.content).data.attachment_restrictions

    # --- writes --------------------------------------------------------------------------
    async def create_application(self, job_id: str, person: dict[str, str]) -> tuple[str, str]:
        """`POST /ats/jobs/{job_id}/applications`: (candidate id, application id)."""
        ats = self.sdk.ats
        async for attempt in self.retrying(unknown=True):
            with attempt:
                made = await self._once(
                    "application create",
                    lambda: ats.create_application_async(job_id=job_id, candidate=person),
                    write=True,
                )
                return made.data.candidate_id or "", made.data.id
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def add_attachment(
        self, application_id: str, attachment: Callable[[], dict[str, Any]]
    ) -> list[str]:
        """One upload (safe codes retried, a dropped connection not); Kombo's warnings.

        `attachment` builds the body only once a write slot is free, so waiting uploads hold no
        file bytes."""
        ats = self.sdk.ats
        done = await self._call(
            "attachment upload",
            lambda: ats.add_application_attachment_async(
                application_id=application_id,
                attachment=attachment(),  # type: ignore[arg-type]
            ),
            write=True,
        )
        return [w.message for w in done.warnings]


def pick_person(
    people: Sequence[KomboPerson], job_id: str, known: str | None
) -> KomboPerson | None:
    """The candidate already applied to the job, else the one we know, else the first."""
    for person in people:
        if job_id in person.applications:
            return person
    return next((p for p in people if p.id == known), people[0] if people else None)


def _describe(error: BaseException) -> str:
    """A failed attempt in the retry log line: Kombo's error code, else the status or class."""
    found = getattr(error, "code", None) or getattr(error, "status", None)
    return str(found) if found else type(error).__name__
