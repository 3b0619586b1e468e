"""Read-back evidence: name and size (and type), one claim per ATS file, never name alone."""

from __future__ import annotations

from seek_sync.ats.base import AtsFile, UploadRecord
from seek_sync.ats.evidence import Seen, claim, claims_of, matches


def _file(n: int, size: int = 1000, name: str = "cv.pdf") -> AtsFile:
    return AtsFile(
        attachment_id=f"att-{n}",
        hirer_id=f"hirer-{n}",
        profile_id=f"p-{n}",
        role="Resume",
        filename=name,
        content_type="application/pdf",
        size=size,
        sha256="0" * 64,
        blob_key=f"k{n}",
    )


def _record(file: AtsFile) -> UploadRecord:
    return UploadRecord(
        target="onderwijsregio", hirer_id=file.hirer_id, attachment_id=file.attachment_id
    )


def test_a_file_of_the_same_name_but_another_size_is_not_ours() -> None:
    ours = _file(1, size=1000)
    assert not matches(ours, Seen("a1", "cv.pdf", 2000), need_size=True)
    assert matches(ours, Seen("a1", "cv.pdf", 1000, "application/pdf"), need_size=True)
    assert not matches(ours, Seen("a1", "cv.pdf", 1000, "image/png"), need_size=True)


def test_name_alone_is_not_evidence_where_size_is_required() -> None:
    assert not matches(_file(1), Seen("a1", "cv.pdf", None), need_size=True)
    assert matches(_file(1), Seen("a1", "cv.pdf", None), need_size=False)


def test_one_hirers_file_never_confirms_anothers_upload() -> None:
    """Two hirers of one tenant, one person, two files alike: one ATS file, one claim."""
    first, second = _file(1), _file(2)
    seen = [Seen("a1", "cv.pdf", 1000)]
    claimed: dict[str, str] = {}
    one, two = _record(first), _record(second)
    assert claim(first, one, seen, claimed, need_size=True)
    assert one.state == "confirmed" and one.ats_attachment_id == "a1"
    assert not claim(second, two, seen, claimed, need_size=True)
    assert two.state == "pending"
    assert claim(first, _record(first), seen, claimed, need_size=True)  # its own claim again


def test_claims_are_limited_to_the_callbacks_ids() -> None:
    ours = _file(1)
    seen = [Seen("a1", "cv.pdf", 1000), Seen("a2", "cv.pdf", 1000)]
    record = _record(ours)
    assert claim(ours, record, seen, {}, need_size=True, among=("a2",))
    assert record.ats_attachment_id == "a2"
    assert claims_of([record]) == {"a2": "att-1"}
