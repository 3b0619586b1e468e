"""What a file really is (from its first bytes) and a filename that is safe to store and show."""

from __future__ import annotations

import re
import unicodedata

import puremagic

HEAD_BYTES = 8192

# puremagic ranks every zip-family signature equally and reports a plain zip as .docx, and calls a
# standard DOS/PE header a ZoneAlarm file; so zip members and MZ headers are checked here first.
_OOXML = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
_CANONICAL = {"image/jpg": "image/jpeg", "text/rtf": "application/rtf", "image/pjpeg": "image/jpeg"}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_MAX_NAME_BYTES = 150


def _zip_type(head: bytes) -> str:
    if b"mimetypeapplication/vnd.oasis.opendocument.text" in head:
        return "application/vnd.oasis.opendocument.text"
    for marker, mime in _OOXML:
        if b"[Content_Types].xml" in head and marker in head:
            return mime
    return "application/zip"


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        return error.start >= len(head) - 3
    return True


def sniff_type(head: bytes) -> str | None:
    """The MIME type the bytes are, or None when they match nothing we know."""
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(head)
    if head.startswith(b"MZ"):
        return "application/vnd.microsoft.portable-executable"
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    try:
        mime = puremagic.from_string(head, mime=True)
    except puremagic.PureError:
        mime = ""
    if mime:
        return _CANONICAL.get(mime, mime)
    return "text/plain" if _is_text(head) else None


def base_type(content_type: str | None) -> str | None:
    """`application/pdf; charset=x` -> `application/pdf` (lower case), None when absent."""
    if not content_type:
        return None
    value = content_type.split(";", 1)[0].strip().lower()
    return _CANONICAL.get(value, value) or None


def types_match(declared: str | None, sniffed: str | None) -> bool:
    """Whether the declared Content-Type agrees with the bytes; unknown bytes never agree."""
    declared = base_type(declared)
    return sniffed is not None and declared == sniffed


def safe_filename(
    name: str | None, *, fallback_stem: str = "attachment", extension: str | None = None
) -> str:
    """A name with no path, control or reserved characters, no leading dots, at most 150 bytes."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = _UNSAFE.sub("", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    if not text or text in (".", ".."):
        text = fallback_stem + (extension or "")
    stem, dot, ext = text.rpartition(".")
    if not dot or len(ext) > 10 or not stem:
        stem, ext = text, ""
    suffix = f".{ext}" if ext else ""
    budget = _MAX_NAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:budget].decode("utf-8", "ignore").rstrip(" .") or fallback_stem
    return stem + suffix
