"""The Kombo fake's wire shapes: the error type, cursor paging and filters, and the JSON views of
jobs, candidates, applications and attachments with every field the `kombo` SDK's models require.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

import aiohttp
from aiohttp import web

from seek_sync.sandbox.kombo_data import (
    ATTACHMENT_TYPES,
    CODE_STATUS,
    KomboApplication,
    KomboCandidate,
    KomboConfig,
    KomboJob,
    KomboStore,
    StoredAttachment,
    TypeRestriction,
    Upload,
)

T = TypeVar("T")
MAX_PAGE_SIZE = 250
REMOTE = "https://sandbox-ats.example"
STAGES = ("Application Review", "Phone Screen", "Interview", "Offer")
CONTENT_TYPE = re.compile(r"^[\w.-]+/[\w.-]+$")


class KomboError(Exception):
    """Answered as Kombo's error body; `code` None is a plain 404."""

    def __init__(
        self, code: str | None, message: str, status: int = 0, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.status = status or CODE_STATUS.get(code or "", 404)
        self.headers = headers or {}

    def response(self, log_url: str) -> web.Response:
        title = self.code.split(".", 1)[1].replace("_", " ").capitalize() if self.code else None
        error = {"code": self.code, "title": title or "Not found", "message": self.message}
        body = {"status": "error", "error": error | {"log_url": log_url}}
        return web.json_response(body, status=self.status, headers=self.headers)


def invalid(message: str) -> KomboError:
    return KomboError("PLATFORM.INPUT_INVALID", message)


def ts(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and `Z`, as Kombo writes them."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ok(data: Any, warnings: list[str] | None = None) -> web.Response:
    body = {"status": "success", "data": data, "warnings": [{"message": w} for w in warnings or []]}
    return web.json_response(body)


async def drop(request: web.Request) -> web.Response:
    """The work is done; the client never hears back."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=499)


async def json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def read_candidate(body: dict[str, Any]) -> dict[str, Any]:
    person = body.get("candidate")
    if not isinstance(person, dict):
        raise invalid("candidate is required.")
    for key in ("first_name", "last_name", "email_address"):
        if not isinstance(person.get(key), str) or not person[key].strip():
            raise invalid(f"candidate.{key} is required.")
    if "@" not in person["email_address"]:
        raise invalid("candidate.email_address is not an email address.")
    return person


def read_answers(question_ids: list[str], answers: Any) -> list[dict[str, Any]]:
    if answers is None:
        return []
    if not isinstance(answers, list):
        raise invalid("screening_question_answers must be an array.")
    for i, answer in enumerate(answers):
        where = f"screening_question_answers[{i}]"
        if not isinstance(answer, dict) or answer.get("question_id") not in question_ids:
            raise invalid(f"{where}.question_id is not a question of the job.")
        if "answer" not in answer:
            raise invalid(f"{where}.answer is required.")
    return answers


async def read_upload(config: KomboConfig, item: Any, where: str) -> Upload:
    """Validate one attachment object, fetch its `data_url`, apply the type's restrictions."""
    if not isinstance(item, dict):
        raise invalid(f"{where} must be an object.")
    name, kind, ctype = item.get("name"), item.get("type"), item.get("content_type")
    data, url = item.get("data"), item.get("data_url")
    if not isinstance(name, str) or not name.strip():
        raise invalid(f"{where}.name is required.")
    if kind not in ATTACHMENT_TYPES:
        raise invalid(f"{where}.type must be one of {', '.join(ATTACHMENT_TYPES)}.")
    if (data is None) == (url is None):
        raise invalid(f"{where}: provide exactly one of data and data_url.")
    if ctype is not None and (not isinstance(ctype, str) or not CONTENT_TYPE.fullmatch(ctype)):
        raise invalid(f"{where}.content_type must match ^[\\w.-]+\\/[\\w.-]+$.")
    rule = config.restrictions.get(kind, TypeRestriction(is_supported=False))
    if not rule.is_supported:
        raise invalid(f"{where}.type {kind}: is_supported is false for this integration.")
    cap, limit = rule.max_file_size_bytes, "max_file_size_bytes"
    if cap is None:
        cap, limit = config.max_download_bytes, "the sandbox's max_download_bytes"
    if data is not None:
        if ctype is None:
            raise invalid(f"{where}.content_type is required with data.")
        try:
            raw = base64.b64decode(cast(str, data), validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise invalid(f"{where}.data is not valid base64.") from None
    else:
        raw, served_type = await _download(config, url, where, cap)
        ctype = ctype or served_type
        if not ctype:
            raise invalid(f"{where}: no content_type given and the data_url sent none.")
    mime = ctype.split(";")[0].strip().lower()
    if not raw:
        raise invalid(f"{where}: the file is empty.")
    if len(raw) > cap:
        raise invalid(f"{where}: {len(raw)} bytes is over {limit} {cap} for {kind}.")
    accepted = rule.accepted_mime_types
    if accepted is not None and mime not in {m.lower() for m in accepted}:
        raise invalid(f"{where}: content type {mime} is not in accepted_mime_types for {kind}.")
    return Upload(name, kind, mime, raw, "data" if data is not None else "data_url")


async def _download(
    config: KomboConfig, url: Any, where: str, cap: int
) -> tuple[bytes, str | None]:
    """Fetch a `data_url` at once (Kombo does), reading at most cap + 1 bytes."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise invalid(f"{where}.data_url must be an http(s) URL.")
    timeout = aiohttp.ClientTimeout(total=config.data_url_timeout_seconds)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
            if resp.status != 200:
                raise invalid(f"{where}.data_url answered HTTP {resp.status}.")
            chunks, size = [], 0
            async for chunk in resp.content.iter_chunked(64 * 1024):
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:
                    break
            return b"".join(chunks), resp.headers.get("Content-Type")
    except (aiohttp.ClientError, TimeoutError) as error:
        raise invalid(
            f"{where}.data_url could not be downloaded ({type(error).__name__})."
        ) from None


class Page(Generic[T]):
    """One list request: `ids` (unknown id: 404), filters, `updated_after`, cursor and size."""

    def __init__(self, request: web.Request, items: list[T], index: dict[str, T]) -> None:
        self.query = request.query
        raw_size = self.query.get("page_size", "100")
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= MAX_PAGE_SIZE:
            raise invalid(f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}.")
        self.size = int(raw_size)
        self.offset = self._offset(self.query.get("cursor"))
        self.items = items
        ids = self.values("ids")
        if ids is not None:
            for item_id in ids:
                if len(item_id) != 24:
                    raise invalid(f"ids: {item_id!r} is not a 24-character Kombo id.")
                if item_id not in index:
                    raise KomboError(None, f"No record with id {item_id!r}.")
            self.items = [index[i] for i in dict.fromkeys(ids)]

    @staticmethod
    def _offset(cursor: str | None) -> int:
        if not cursor:
            return 0
        try:
            kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
            if kind == "offset" and number.isdigit():
                return int(number)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
        raise invalid("cursor is not a cursor this API returned.")

    def values(self, name: str, single: bool = False) -> list[str] | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return None
        return [raw] if single else [v.strip() for v in raw.split(",") if v.strip()]

    def by(
        self, name: str, key: Callable[[T], str], fold: bool = False, single: bool = False
    ) -> None:
        wanted = self.values(name, single)
        if wanted is not None:
            keep = {w.casefold() if fold else w for w in wanted}
            self.items = [item for item in self.items if key(item) in keep]

    def by_any(self, name: str, keys: Callable[[T], Iterable[str]]) -> None:
        wanted = self.values(name)
        if wanted is not None:
            self.items = [item for item in self.items if set(keys(item)) & set(wanted)]

    def since(self, key: Callable[[T], datetime]) -> None:
        raw = self.query.get("updated_after")
        if raw:
            try:
                after = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise invalid("updated_after must be an ISO 8601 date-time.") from None
            after = after if after.tzinfo else after.replace(tzinfo=UTC)
            self.items = [item for item in self.items if key(item) >= after]


def paginate(page: Page[T], view: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    end = page.offset + page.size
    more = end < len(page.items)
    cursor = base64.urlsafe_b64encode(f"offset:{end}".encode()).decode() if more else None
    return {"next": cursor, "results": [view(item) for item in page.items[page.offset : end]]}


def stage_view(job: KomboJob, stage_id: str) -> dict[str, Any]:
    index = job.stage_ids.index(stage_id)
    return {
        "id": stage_id,
        "remote_id": f"{job.remote_id}-stage-{index + 1}",
        "name": STAGES[index % len(STAGES)],
        "status": "ACTIVE",
        "custom_fields": {},
        "index": index,
    }


def _nulls(names: str) -> dict[str, None]:
    return dict.fromkeys(names.split())


def job_view(job: KomboJob) -> dict[str, Any]:
    opened = ts(job.opened_at)
    right_to_work, about = job.question_ids
    extra = _nulls("description category") | {"required": False}
    questions = [
        {"id": right_to_work, "remote_id": "q1", "index": 0, **extra,
         "title": "Do you have the right to work in Australia?", "format": {"type": "BOOLEAN"}},
        {"id": about, "remote_id": "q2", "index": 1, **extra, "title": "Tell us about yourself.",
         "format": {"type": "TEXT", "display_type": "MULTI_LINE", "max_length": 2000}},
    ]  # fmt: skip
    return {
        "id": job.id,
        "remote_id": job.remote_id,
        "name": job.name,
        "job_code": job.remote_id,
        "description": f"<p>{job.name}</p>",
        "confidential": False,
        "weekly_hours": 38.0,
        "employment_type": "FULL_TIME",
        "status": job.status,
        "visibility": "PUBLIC",
        "remote_work_status": "ON_SITE",
        **_nulls("category department post_url experience_level contact_id remote_deleted_at"),
        **_nulls("salary_amount salary_amount_from salary_amount_to"),
        "salary_currency": "AUD",
        "salary_period": "YEAR",
        "location": {"city": "Melbourne", "state": "VIC", "country": "AU", "raw": "Melbourne VIC"},
        "custom_fields": {},
        "remote_url": f"{REMOTE}/jobs/{job.remote_id}",
        **dict.fromkeys(
            ("opened_at", "remote_created_at", "remote_updated_at", "changed_at"), opened
        ),
        "closed_at": None if job.status == "OPEN" else opened,
        "stages": [stage_view(job, s) for s in job.stage_ids],
        "screening_questions": questions,
        "job_postings": [],
        "hiring_team": [],
    }


def candidate_view(store: KomboStore, c: KomboCandidate, apps: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": c.id,
        "remote_id": c.remote_id,
        "first_name": c.first_name,
        "last_name": c.last_name,
        **_nulls("company title location remote_deleted_at"),
        "confidential": False,
        "source": "SEEK",
        "phone_numbers": [{"phone_number": c.phone, "type": "MOBILE"}] if c.phone else [],
        "email_addresses": [{"email_address": c.email, "type": "PERSONAL"}],
        "social_media": [],
        "custom_fields": {},
        "remote_url": f"{REMOTE}/people/{c.remote_id}",
        "remote_created_at": ts(c.created_at),
        **dict.fromkeys(("remote_updated_at", "changed_at"), ts(c.changed_at)),
        "tags": [],
    }
    if apps:
        with store.lock:
            mine = [a for a in store.applications.values() if a.candidate_id == c.id]
        view["applications"] = [application_view(store, a, candidate=False) for a in mine]
    return view


def application_view(
    store: KomboStore, a: KomboApplication, candidate: bool = True
) -> dict[str, Any]:
    job = store.jobs[a.job_id]
    view: dict[str, Any] = {
        "id": a.id,
        "remote_id": a.remote_id,
        "outcome": "PENDING",
        **_nulls("rejection_reason_name rejected_at remote_deleted_at"),
        "current_stage_id": a.stage_id,
        "job_id": job.id,
        "candidate_id": a.candidate_id,
        "custom_fields": {},
        "remote_url": f"{REMOTE}/applications/{a.remote_id}",
        "remote_created_at": ts(a.created_at),
        **dict.fromkeys(("remote_updated_at", "changed_at"), ts(a.changed_at)),
        "current_stage": stage_view(job, a.stage_id),
        "job": {"id": job.id, "remote_id": job.remote_id, "name": job.name},
        "interviews": [],
        "offers": [],
    }
    if candidate:
        person = store.candidates[a.candidate_id]
        view["candidate"] = candidate_view(store, person, apps=False)
    return view


def attachment_view(a: StoredAttachment, origin: str) -> dict[str, Any]:
    return {
        "id": a.id,
        "remote_id": a.remote_id,
        "type": a.type,
        "data_url": f"{origin}/_sandbox/kombo/files/{a.id}",
        "file_name": a.name,
        "content_type": a.content_type,
        "remote_created_at": ts(a.created_at),
        "remote_updated_at": ts(a.created_at),
    }
