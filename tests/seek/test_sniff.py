"""Content sniffing and safe filenames (pure functions)."""

from __future__ import annotations

import io
import os
import random
import unicodedata
import zipfile

import pytest

from seek_sync.sandbox import files
from seek_sync.seek.sniff import (
    DOCX,
    HEAD_BYTES,
    PPTX,
    XLSX,
    base_type,
    original_filename,
    safe_filename,
    sniff_type,
    types_match,
)


@pytest.mark.parametrize("kind", files.KINDS)
def test_every_generated_kind_is_recognised(kind: str) -> None:
    data = files.render_file(kind, 20_000, 1, "Résumé — Zoë", ["Teacher, Northside College"])
    assert sniff_type(data[:8192]) == files.MIME[kind]


def test_unknown_bytes() -> None:
    assert sniff_type(b"\x00\x01\x02binary") is None
    assert not types_match("application/octet-stream", None)


def test_declared_type_parameters_and_case_ignored() -> None:
    assert base_type("Application/PDF; charset=binary") == "application/pdf"
    assert base_type(None) is None
    assert types_match("text/plain; charset=utf-8", "text/plain")
    assert types_match("image/jpg", "image/jpeg")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("My Resume 2026 final.docx", "My Resume 2026 final.docx"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ('../../etc/pass\x00wd\r\n"; rm -rf ~.pdf', "passwd; rm -rf ~.pdf"),
        (".bashrc", "bashrc"),
        ("...", "attachment"),
        ("..", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        ("   spaced    out   .pdf", "spaced out.pdf"),
        (
            'Curriculum vitæ – Zoë Ñúñez (final) "v2".pdf',
            "Curriculum vitæ – Zoë Ñúñez (final) v2.pdf",
        ),
        ("a<b>c:d|e?f*g.txt", "abcdefg.txt"),
        ("trailing dots...", "trailing dots"),
        ("Zoe\u0308.pdf", "Zoë.pdf"),  # NFC
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected


def test_fallback_uses_the_sniffed_extension() -> None:
    assert safe_filename("/", extension=".pdf") == "attachment.pdf"


def test_long_names_are_cut_keeping_the_extension() -> None:
    name = "é" * 300 + ".pdf"
    safe = safe_filename(name)
    assert safe.endswith(".pdf") and len(safe.encode()) <= 150
    safe.encode().decode("utf-8")  # never cut inside a character


# --- content sniffing edge cases -----------------------------------------------------------------


def _zip(*members: tuple[str, bytes], stored: bool = False) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()[:HEAD_BYTES]


_TYPES = b'<Types><Override PartName="/word/document.xml" ContentType="application/vnd.' + (
    b'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_zip(("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w/>")), DOCX),
        (_zip(("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<x/>")), XLSX),
        (_zip(("[Content_Types].xml", b"<Types/>"), ("ppt/presentation.xml", b"<p/>")), PPTX),
        # [Content_Types].xml written last: the package relationships still make it OOXML
        (_zip(("_rels/.rels", b"<r/>"), ("word/document.xml", b"<w/>")), DOCX),
        # the word/ parts lie beyond the sample: the inflated content types name the main part
        (_zip(("[Content_Types].xml", _TYPES), ("docProps/big.bin", os.urandom(20_000))), DOCX),
        (_zip(("a.txt", b"x")), "application/zip"),
        (_zip(("word/notes.txt", b"a folder called word, no package")), "application/zip"),
        # a plain zip whose stored *content* mentions the OOXML names is still a zip
        (_zip(("a.txt", b"[Content_Types].xml _rels/.rels word/"), stored=True), "application/zip"),
        (
            _zip(("mimetype", b"application/vnd.oasis.opendocument.text"), stored=True),
            "application/vnd.oasis.opendocument.text",
        ),
    ],
)
def test_zip_family(data: bytes, expected: str) -> None:
    assert sniff_type(data) == expected


def test_executables_and_text_that_starts_like_one() -> None:
    pe = files.render_file("exe", 9_216, 1, "t", ["x"])[:HEAD_BYTES]
    assert sniff_type(pe) == "application/vnd.microsoft.portable-executable"
    assert sniff_type(b"MZ" + bytes(range(256)) * 4) == "application/x-dosexec"
    assert sniff_type(b"MZ is how I sign my letters.\n") == "text/plain"
    assert sniff_type(b"PK is how I sign my letters.\n") == "text/plain"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", None),  # an empty file is not a crash
        (b"a,b,c\n1,2,3\n", "text/plain"),
        ("Zoë — teacher\n".encode(), "text/plain"),
        ("\ufeffwith a BOM".encode(), "text/plain"),
        ("é".encode() * 4096 + "é".encode()[:1], "text/plain"),  # a character cut by the sample
        ("café".encode("latin-1"), None),  # not UTF-8: not claimed as text
        (b"text\x00with a NUL", None),
        (b"text\x01\x02\x03 with controls", None),
        (b"{\\rtf1\\ansi hello}", "application/rtf"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(40), "image/webp"),
        (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(600), "application/msword"),
    ],
)
def test_text_and_other_types(data: bytes, expected: str | None) -> None:
    assert sniff_type(data) == expected


@pytest.mark.parametrize(
    ("declared", "sniffed", "matches"),
    [
        ("application/pdf", "application/pdf", True),
        ("application/pdf", DOCX, False),
        ("text/csv", "text/plain", True),
        ("text/markdown; charset=utf-8", "text/plain", True),
        ("application/json", "text/plain", True),
        ("text/plain", "application/json", True),
        ("text/plain", "application/rtf", False),
        ("application/pdf", "text/plain", False),
        ("image/heic", "image/heif", True),
        ("application/octet-stream", "application/pdf", False),
        (None, "application/pdf", False),
        ("text/plain", None, False),
    ],
)
def test_types_match(declared: str | None, sniffed: str | None, matches: bool) -> None:
    assert types_match(declared, sniffed) is matches


# --- filenames -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cv\u202efdp.exe", "cvfdp.exe"),  # right-to-left override (shows as "cvexe.pdf")
        ("zero\u200bwidth\u200d.pdf", "zerowidth.pdf"),
        ("next\x85line.pdf", "nextline.pdf"),  # C1 control
        ("lone\udc80surrogate.pdf", "lonesurrogate.pdf"),
        ("C:\\Users\\zoe\\Documents\\cv.pdf", "cv.pdf"),
        ("cv.pdf::$DATA", "cv.pdf$DATA"),
        ("file:stream.txt", "filestream.txt"),
        ("CON.txt", "_CON.txt"),
        ("nul", "_nul"),
        ("com1.tar.gz", "_com1.tar.gz"),
        ("console.txt", "console.txt"),
        ("a\tb\nc\rd.pdf", "abcd.pdf"),
        ("\u2028line\u2029sep .pdf", "line sep.pdf"),
        ("cv.pdf.", "cv.pdf"),
        ("cv.pdf/", "attachment"),
        ("%2e%2e%2fetc%2fpasswd", "%2e%2e%2fetc%2fpasswd"),  # not decoded, so harmless
        ("report.final version", "report.final version"),
        ("\u3000ideographic\u3000space.pdf", "ideographic space.pdf"),
    ],
)
def test_safe_filename_hostile(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_fallback_without_extension_and_custom_stem() -> None:
    assert safe_filename(None, fallback_stem="resume") == "resume"
    assert safe_filename("\x00\x01", extension=".docx") == "attachment.docx"
    assert safe_filename("....", extension=".txt") == "attachment.txt"


def test_long_extension_is_not_kept_as_one() -> None:
    assert safe_filename("x" * 200 + "." + "y" * 40) == "x" * 150


def test_four_byte_characters_are_never_split() -> None:
    safe = safe_filename("😀" * 100 + ".pdf")
    assert safe == "😀" * 36 + ".pdf" and len(safe.encode()) == 148


_ALPHABET = 'a./\\\x00\r\n\t .:<>"|?*\u202e\u200b\udc80éZ😀\u0301CON'


@pytest.mark.parametrize("seed", range(20))
def test_safe_filename_invariants_on_random_garbage(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        name = "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, 400)))
        safe = safe_filename(name, extension=".pdf")
        raw = safe.encode()  # never raises: no lone surrogates
        assert safe and safe not in (".", "..") and len(raw) <= 150
        assert not safe.startswith((".", " ")) and not safe.endswith((".", " "))
        assert not any(c in safe for c in '/\\<>:"|?*\x00\r\n\t\u202e\u200b')
        assert "  " not in safe and unicodedata.is_normalized("NFC", safe)
        assert safe.split(".", 1)[0].upper() not in ("CON", "NUL")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("attachment", None),
        ('attachment; filename="cv.pdf"', "cv.pdf"),
        ("inline; filename=cv.pdf", "cv.pdf"),
        ('attachment; filename="a \\"quoted\\" name.pdf"', 'a "quoted" name.pdf'),
        (
            "attachment; filename=\"Zoe.pdf\"; filename*=UTF-8''Zo%C3%AB%20%E2%80%93%20cv.pdf",
            "Zoë – cv.pdf",
        ),
        ("attachment; filename*=ISO-8859-1''caf%E9.pdf", "café.pdf"),
        ('attachment; filename="../../etc/passwd"', "../../etc/passwd"),  # the original, as sent
        ("attachment; filename=my cv 2026.pdf", "my cv 2026.pdf"),  # malformed: read leniently
        ('attachment; filename="a.pdf"; filename="b.pdf"', "a.pdf"),  # malformed: first one
    ],
)
def test_original_filename(header: str | None, expected: str | None) -> None:
    assert original_filename(header) == expected


def test_text_with_a_stray_signature_stays_plain_text() -> None:
    # "Candidate" holds QuickTime's `idat` atom at offset 4; puremagic alone says image/x-quicktime.
    head = "Candidate resume — Lachlan D'Souza\n\nExperience\n".encode()
    assert sniff_type(head) == "text/plain"
