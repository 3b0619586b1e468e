"""What a file really is (from its first bytes) and a filename that is safe to store and show.

Sniffing looks at the first `HEAD_BYTES` of a file only:

- ZIP (`PK\\x03\\x04`): the local file headers are walked (not searched as text, so a plain zip
  that merely *contains* the words `word/` is still a zip). With `[Content_Types].xml` or
  `_rels/.rels` among the entries, an entry under `word/`, `xl/` or `ppt/` (or, failing that, the
  main part type inside `[Content_Types].xml`, inflated with a bound) makes it docx, xlsx or pptx.
  A stored first `mimetype` entry makes it ODF or EPUB; anything else is `application/zip`.
  puremagic cannot do this: it calls every zip a docx.
- `MZ` with a `PE\\0\\0` signature where `e_lfanew` points is a PE executable; other binary `MZ`
  data is a DOS executable; text that happens to start with "MZ" is text.
- `{\\rtf` is RTF.
- Everything else goes to puremagic (through `magic.magic_string`: its matching, indexed), mapped
  to one canonical MIME type.
- What puremagic does not know is `text/plain` if it decodes as UTF-8 (a character cut at the end of
  a full sample is allowed) with no NUL or other binary control characters; otherwise None.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zlib
from urllib.parse import unquote

import puremagic
import pyrfc6266

from seek_sync.seek.magic import magic_string

HEAD_BYTES = 8192

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PE = "application/vnd.microsoft.portable-executable"
_OOXML = ((b"word/", b"wordprocessingml", DOCX), (b"xl/", b"spreadsheetml", XLSX))
_OOXML += ((b"ppt/", b"presentationml", PPTX),)
_CANONICAL = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/x-ms-bmp": "image/bmp",
    "text/rtf": "application/rtf",
    "application/x-rtf": "application/rtf",
    "application/x-pdf": "application/pdf",
    "application/x-gzip": "application/gzip",
    "application/x-zip-compressed": "application/zip",
    "text/xml": "application/xml",
    "application/x-msdownload": PE,
}
# Types the same bytes may rightly be declared as.
_EQUIVALENT = ({"image/heic", "image/heif"},)
# Sniffing can only say "this is text"; any text-like declared type agrees with it.
_GENERIC_TEXT = {"text/plain", "application/json", "application/xml"}
EXTENSIONS = {
    "application/pdf": ".pdf",
    DOCX: ".docx",
    XLSX: ".xlsx",
    PPTX: ".pptx",
    "application/msword": ".doc",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/rtf": ".rtf",
    "text/plain": ".txt",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heif": ".heic",
    "image/tiff": ".tif",
    "application/zip": ".zip",
    PE: ".exe",
}
_BINARY_CONTROLS = re.compile(rb"[\x00-\x08\x0e-\x19\x1b-\x1f\x7f]")
_RESERVED_CHARS = re.compile(r'[<>:"|?*]')
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in range(10)
}
_MAX_NAME_BYTES = 150
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")  # signature ... name length, extra length


def _zip_entries(head: bytes) -> list[tuple[bytes, int, bytes]]:
    """(name, method, the part of its data inside `head`) for each local file header in `head`."""
    entries, offset = [], 0
    while offset + _LOCAL_HEADER.size <= len(head):
        signature, _, flags, method, *_, size, _, name_len, extra_len = _LOCAL_HEADER.unpack_from(
            head, offset
        )
        if signature != b"PK\x03\x04":
            break
        name_end = offset + _LOCAL_HEADER.size + name_len
        start = name_end + extra_len
        if (flags & 0x08 and size == 0) or size == 0xFFFFFFFF:  # size not in this header
            end = head.find(b"PK\x03\x04", start)
            end = len(head) if end < 0 else end
        else:
            end = start + size
        entries.append((head[offset + _LOCAL_HEADER.size : name_end], method, head[start:end]))
        offset = end
    return entries


def _inflate(data: bytes, method: int) -> bytes:
    if method == 0:
        return data
    if method != 8:
        return b""
    try:
        return zlib.decompressobj(-15).decompress(data, 65536)  # bounded: no zip bomb
    except zlib.error:
        return b""


def _zip_type(head: bytes) -> str:
    entries = _zip_entries(head)
    if entries and entries[0][0] == b"mimetype" and entries[0][1] == 0:
        declared = entries[0][2].decode("ascii", "replace").strip()
        if declared.startswith("application/vnd.oasis.opendocument.") or declared == (
            "application/epub+zip"
        ):
            return declared
    names = [name for name, _, _ in entries]
    if b"[Content_Types].xml" in names or b"_rels/.rels" in names:
        for prefix, _, mime in _OOXML:
            if any(name.startswith(prefix) for name in names):
                return mime
        types = b"".join(_inflate(d, m) for n, m, d in entries if n == b"[Content_Types].xml")
        for _, main_part, mime in _OOXML:
            if b"officedocument." + main_part in types:
                return mime
    return "application/zip"


def _is_pe(head: bytes) -> bool:
    if len(head) < 0x40:
        return False
    (offset,) = struct.unpack_from("<I", head, 0x3C)
    return 0x40 <= offset <= len(head) - 4 and head[offset : offset + 4] == b"PE\0\0"


def _is_text(head: bytes) -> bool:
    if not head or _BINARY_CONTROLS.search(head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut off at the end of a full sample is still text.
        return len(head) >= HEAD_BYTES and error.reason == "unexpected end of data"
    return True


def sniff_type(head: bytes) -> str | None:
    """The MIME type the bytes are, or None when they match nothing we know (or are empty)."""
    if not head:
        return None
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(head)
    if head.startswith(b"MZ") and _is_pe(head):
        return PE
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    try:
        matches = magic_string(head)
    except (puremagic.PureError, ValueError):
        matches = []
    best = matches[0] if matches else None
    if _is_text(head) and (best is None or best.offset != 0 or best.confidence < 0.8):
        # Plain text matches stray signatures: "Candidate" holds QuickTime's `idat` at offset 4.
        return "text/plain"
    mime = _CANONICAL.get(best.mime_type, best.mime_type) if best else ""
    if mime and mime != "application/octet-stream":
        return mime
    return "application/x-dosexec" if head.startswith(b"MZ") else None


def base_type(content_type: str | None) -> str | None:
    """`Application/PDF; charset=x` -> `application/pdf` (canonical), None when absent."""
    if not content_type:
        return None
    value = content_type.split(";", 1)[0].strip().lower()
    return _CANONICAL.get(value, value) or None


def _text_like(mime: str) -> bool:
    return mime.startswith("text/") or mime in _GENERIC_TEXT or mime.endswith(("+json", "+xml"))


def types_match(declared: str | None, sniffed: str | None) -> bool:
    """Whether the declared Content-Type agrees with the bytes.

    Unknown bytes (None), a missing declared type and `application/octet-stream` never agree: we
    cannot confirm them. Text sniffed as plain text, JSON or XML agrees with any text-like type
    (`text/*`, JSON, XML), since the bytes cannot tell `text/csv` from `text/plain`.
    """
    declared = base_type(declared)
    if sniffed is None or declared is None:
        return False
    if declared == sniffed or any({declared, sniffed} <= group for group in _EQUIVALENT):
        return True
    return sniffed in _GENERIC_TEXT and _text_like(declared)


# The shape nearly every server sends (SEEK's sandbox included): a plain ASCII `filename` and an
# optional UTF-8 `filename*`. It is read here with the same result as pyrfc6266's grammar (3 ms a
# header, more than a typical download); anything else goes through pyrfc6266.
_SIMPLE_DISPOSITION = re.compile(
    r'(?:attachment|inline); filename="([\x20\x21\x23-\x5b\x5d-\x7e]*)"'
    r"(?:; filename\*=UTF-8''((?:[!#$&+\-.^_`|~0-9A-Za-z]|%[0-9A-Fa-f]{2})+))?",
    re.IGNORECASE,
)


def original_filename(disposition: str | None) -> str | None:
    """The sender's filename, unsanitised (kept for the record; never logged).

    RFC 6266 through pyrfc6266: `filename*` (RFC 8187, any charset it allows) wins over `filename`.
    `pyrfc6266.parse_filename` is not used because it replaces `/` and `\\` and so loses the
    original. A header pyrfc6266 rejects (e.g. an unquoted name with spaces, seen in the wild) is
    read leniently rather than dropped.
    """
    if not disposition:
        return None
    simple = _SIMPLE_DISPOSITION.fullmatch(disposition)
    if simple:
        try:
            extended = unquote(simple[2], errors="strict") if simple[2] else None
        except UnicodeDecodeError:
            pass  # pyrfc6266 refuses it too; read leniently below
        else:
            return extended or simple[1] or None
    return _rfc6266_filename(disposition)


def _rfc6266_filename(disposition: str) -> str | None:
    """The filename by pyrfc6266's full grammar, or read leniently where it refuses the header."""
    try:
        _, params = pyrfc6266.parse(disposition)
    except Exception:  # pyparsing's errors
        return _lenient_filename(disposition)
    values = {p.name.lower(): p.value for p in params}
    return values.get("filename*") or values.get("filename") or None


def _lenient_filename(disposition: str) -> str | None:
    extended = re.search(r"filename\*\s*=\s*([\w!#$&+.^`|~-]*)'[^']*'([^;\s]+)", disposition, re.I)
    if extended:
        charset = extended.group(1) or "utf-8"
        try:
            return unquote(extended.group(2), encoding=charset, errors="replace") or None
        except LookupError:
            return unquote(extended.group(2), errors="replace") or None
    quoted = re.search(r'filename\s*=\s*"((?:[^"\\]|\\.)*)"', disposition, re.I)
    if quoted:
        return re.sub(r"\\(.)", r"\1", quoted.group(1)) or None
    bare = re.search(r"filename\s*=\s*([^;]+)", disposition, re.I)
    if bare:
        return bare.group(1).strip().strip('"') or None
    return None


def safe_filename(
    name: str | None, *, fallback_stem: str = "attachment", extension: str | None = None
) -> str:
    """A name that is safe to store, send on and show.

    NFC; the last path component after `/` and `\\`; no control, format (bidi overrides,
    zero-width) or surrogate characters and none of `<>:"|?*`; whitespace collapsed; no leading or
    trailing dots and spaces; Windows device names (CON, NUL, COM1, ...) prefixed with `_`; at
    most 150 UTF-8 bytes with the extension kept. Never empty, `.` or `..`: the fallback is
    `fallback_stem` + `extension` (the caller passes the sniffed type's extension).
    """
    text = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    text = _RESERVED_CHARS.sub("", text)
    # Again: a removed character may have separated a letter from its combining mark.
    text = unicodedata.normalize("NFC", re.sub(r"\s+", " ", text)).strip(" .")
    if not text:
        text = fallback_stem + (extension or "")
    stem, dot, ext = text.rpartition(".")
    if not dot or len(ext) > 10 or not stem or " " in ext:
        stem, ext = text, ""
    if stem.split(".", 1)[0].rstrip().upper() in _WINDOWS_DEVICES:
        stem = "_" + stem
    suffix = f".{ext}" if ext else ""
    budget = _MAX_NAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:budget].decode("utf-8", "ignore").rstrip(" .") or fallback_stem
    return stem + suffix
