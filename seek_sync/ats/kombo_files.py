"""What the Kombo target sends for each file, what the integration allows, and read-back matching.

`GET /ats/actions/ats_add_application_attachment` gives, per attachment type, `is_supported`,
`max_file_size_bytes` and `accepted_mime_types` (null means no limit); a file that breaks one is
rejected with its reason and never sent. A read-back matches a file by `evidence.claim`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from seek_sync.ats.base import AtsCandidate, AtsFile, CandidateRecord, UploadRecord
from seek_sync.ats.evidence import Claims, Seen, claim, claims_of

KomboType = Literal["CV", "COVER_LETTER", "OTHER"]
ROLE_TYPES: dict[str | None, KomboType] = {"Resume": "CV", "CoverLetter": "COVER_LETTER"}
MIME = re.compile(r"^[\w.-]+/[\w.-]+$")  # Kombo's content_type pattern


class TypeRestriction(BaseModel):
    """One attachment type's limits from the actions endpoint (null means no limit)."""

    model_config = ConfigDict(extra="ignore")

    is_supported: bool = True
    max_file_size_bytes: int | None = None
    accepted_mime_types: list[str] | None = None


class Restrictions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    types: dict[str, TypeRestriction] = Field(default_factory=dict)

    def for_type(self, kind: KomboType) -> TypeRestriction:
        return self.types.get(kind, TypeRestriction())


class StoredAttachment(BaseModel):
    id: str
    file_name: str
    type: str
    content_type: str | None = None


def kombo_type(file: AtsFile) -> KomboType:
    return ROLE_TYPES.get(file.role, "OTHER")


def mime_of(file: AtsFile) -> str:
    return file.content_type.split(";")[0].strip().lower()


def rejection(file: AtsFile, restrictions: Restrictions) -> str | None:
    """Why this integration would refuse the file, or None."""
    kind, mime = kombo_type(file), mime_of(file)
    rule = restrictions.for_type(kind)
    if not rule.is_supported:
        return f"the Kombo integration does not support {kind} attachments"
    if rule.max_file_size_bytes is not None and file.size > rule.max_file_size_bytes:
        limit = rule.max_file_size_bytes
        return f"{file.size} bytes is over the integration's {limit}-byte limit for {kind}"
    accepted = rule.accepted_mime_types
    if accepted is not None and mime not in {m.lower() for m in accepted}:
        return f"type {mime} is not in the integration's accepted types for {kind}"
    if not MIME.fullmatch(mime):
        return f"content type {mime!r} is not a MIME type Kombo accepts"
    return None


def match_stored(
    file: AtsFile,
    records: Mapping[str, UploadRecord],
    stored: Sequence[StoredAttachment],
    claimed: Claims,
) -> bool:
    """Confirm the file by an attachment on our application with its name, Kombo type and
    content type, held by no other upload (Kombo's read-back gives no size or hash)."""
    seen = [Seen(a.id, a.file_name, None, a.content_type, a.type) for a in stored]
    claimed.update(claims_of(records.values()))
    record = records[file.attachment_id]
    return claim(file, record, seen, claimed, kind=kombo_type(file), need_size=False)


def candidate_record(candidate: AtsCandidate) -> CandidateRecord:
    return CandidateRecord(
        target="kombo",
        hirer_id=candidate.hirer_id,
        seek_candidate_id=candidate.seek_candidate_id,
        state="failed",
    )


def person_fields(candidate: AtsCandidate) -> dict[str, str]:
    # Kombo requires both names; a SEEK candidate with one name gets "-" for the other.
    person = {
        "first_name": candidate.given_name.strip() or "-",
        "last_name": candidate.family_name.strip() or "-",
        "email_address": candidate.email or "",
    }
    if candidate.phone:
        person["phone_number"] = candidate.phone
    return person
