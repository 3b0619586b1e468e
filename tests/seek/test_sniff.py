"""Content sniffing and safe filenames (pure functions)."""

from __future__ import annotations

import pytest

from seek_sync.sandbox import files
from seek_sync.seek.sniff import base_type, safe_filename, sniff_type, types_match


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
