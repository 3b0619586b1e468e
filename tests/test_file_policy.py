"""Our own file policy: executables and archives refused by content, documents pass."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

import pytest

from seek_sync.file_policy import refusal
from seek_sync.sandbox import files as sandbox_files
from seek_sync.seek.sniff import HEAD_BYTES, sniff_type


def _zip(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("cv.txt")
        info.size = 3
        archive.addfile(info, io.BytesIO(b"abc"))
    return buffer.getvalue()


REFUSED = {
    "pe": sandbox_files.render_file("exe", 9216, 1, "x", ["y"]),
    "elf": b"\x7fELF\x02\x01\x01" + b"\0" * 200,
    "mach-o": b"\xcf\xfa\xed\xfe" + b"\0" * 200,
    "script": b"#!/bin/sh\nrm -rf ~\n",
    "wasm": b"\x00asm\x01\x00\x00\x00" + b"\0" * 50,
    "zip": _zip({"notes.txt": "hello"}),
    "jar": _zip({"META-INF/MANIFEST.MF": "Main-Class: X", "X.class": "x"}),
    "gzip": gzip.compress(b"hello" * 100),
    "tar": _tar(),
    "rar": b"Rar!\x1a\x07\x01\x00" + b"\0" * 100,
    "7z": b"7z\xbc\xaf\x27\x1c" + b"\0" * 100,
    "zstd": b"\x28\xb5\x2f\xfd" + b"\0" * 100,
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_executables_and_archives_are_refused_by_their_bytes(name: str) -> None:
    head = REFUSED[name][:HEAD_BYTES]
    reason = refusal(sniff_type(head), head)
    assert reason is not None and ("executable" in reason or "archive" in reason), name


@pytest.mark.parametrize("kind", ["pdf", "docx", "rtf", "txt", "png", "jpeg"])
def test_documents_pass_whatever_they_are_called(kind: str) -> None:
    head = sandbox_files.render_file(kind, 30_000, 3, "CV", ["line"])[:HEAD_BYTES]
    assert refusal(sniff_type(head), head) is None


def test_a_text_file_that_starts_like_a_dos_program_is_text() -> None:
    head = b"MZ Smith, curriculum vitae\nTeacher of mathematics.\n"
    assert refusal(sniff_type(head), head) is None


def test_the_declared_type_plays_no_part() -> None:
    """An executable declared (and named) as a PDF is sniffed as what it is, and refused."""
    head = REFUSED["pe"][:HEAD_BYTES]
    assert sniff_type(head) == "application/vnd.microsoft.portable-executable"
    assert "executable" in (refusal(sniff_type(head), head) or "")
