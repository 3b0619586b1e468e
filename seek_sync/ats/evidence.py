"""When an ATS read-back is evidence that our file is there.

An upload is confirmed by a read-back only when the ATS shows, on the candidate (or application)
we created or resolved for this application, an attachment with our file's name and size (and
type, where the ATS gives one) that no other upload of the same target has claimed. Never by name
alone: two hirers sharing one tenant may send one person two different files of the same name,
and the claim keeps one hirer's file from confirming the other's upload.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from seek_sync.ats.base import AtsFile, UploadRecord


@dataclass(frozen=True)
class Seen:
    """One attachment as the ATS's read-back shows it (None: the ATS does not say)."""

    id: str
    name: str | None
    size: int | None = None
    content_type: str | None = None
    kind: str | None = None  # a target's own slot (Kombo's CV / COVER_LETTER / OTHER)


def _base(content_type: str | None) -> str | None:
    return content_type.split(";")[0].strip().lower() if content_type else None


def matches(file: AtsFile, seen: Seen, *, kind: str | None = None, need_size: bool) -> bool:
    """The read-back item has our file's name, size (required when `need_size`) and type."""
    if seen.name != file.filename:
        return False
    if seen.size is None and need_size:
        return False
    if seen.size is not None and seen.size != file.size:
        return False
    if seen.content_type and _base(seen.content_type) != _base(file.content_type):
        return False
    return kind is None or seen.kind is None or seen.kind == kind


Claims = dict[str, str]  # ATS attachment id -> the attachment id of our upload that holds it


def claim(
    file: AtsFile,
    record: UploadRecord,
    seen: Iterable[Seen],
    claimed: Claims,
    *,
    kind: str | None = None,
    need_size: bool,
    among: Sequence[str] | None = None,
) -> bool:
    """Confirm the record by the first matching item no other upload holds (only ids in
    `among`, if given), and record the claim."""
    for item in seen:
        owner = claimed.get(item.id, file.attachment_id)
        if owner != file.attachment_id or (among is not None and item.id not in among):
            continue
        if matches(file, item, kind=kind, need_size=need_size):
            claimed[item.id] = file.attachment_id
            record.confirmed(item.id)
            return True
    return False


def claims_of(records: Iterable[UploadRecord]) -> Claims:
    """The ATS ids these records hold."""
    return {r.ats_attachment_id: r.attachment_id for r in records if r.ats_attachment_id}
