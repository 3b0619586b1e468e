"""The sandbox's generated attachments: exact sizes, determinism, streaming, real file structure."""

from __future__ import annotations

import io
import re
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable

import pytest

from seek_sync.sandbox import files

TITLE = "Curriculum Vitae — Zoë O'Brien"
LINES = (
    "Barista, Café Ølstad — 2019\u20132021",
    "",
    "Shift lead {nights} (weekends) \\ relief cover",
    "Søren's référence: available on request",
)
BIG = 5_000_001
SEED = 11


def render(kind: str, size: int, seed: int = SEED) -> bytes:
    return files.render_file(kind, size, seed, TITLE, LINES)


def floor(kind: str) -> int:
    return files.file_size_floor(kind, TITLE, LINES)


def check_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data[-64:]).group(1))
    assert data[startxref : startxref + 5] == b"xref\n"
    count = int(re.match(rb"xref\n0 (\d+)\n", data[startxref:]).group(1))
    table = startxref + len(b"xref\n0 %d\n" % count)
    assert data[table : table + 20] == b"0000000000 65535 f \n"
    for number in range(1, count):
        entry = data[table + 20 * number : table + 20 * number + 20]
        assert re.fullmatch(rb"\d{10} 00000 n \n", entry)
        offset = int(entry[:10])
        assert data.startswith(b"%d 0 obj\n" % number, offset)
        stream = re.match(rb"\d+ 0 obj\n<< /Length +(\d+) >>\nstream\n", data[offset : offset + 64])
        if stream:
            end = offset + stream.end() + int(stream.group(1))
            assert data[end : end + 17] == b"\nendstream\nendobj"
    trailer = data[table + 20 * count :]
    assert re.match(rb"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R *>>\n" % count, trailer)
    assert b"(Curriculum Vitae \\227 Zo\\353 O'Brien) Tj" in data  # WinAnsi: em dash, e-diaeresis
    assert b"/BaseFont /Helvetica" in data


def check_zip(data: bytes, pad_name: str) -> zipfile.ZipFile:
    assert data.startswith(b"PK\x03\x04")
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    pad = archive.getinfo(pad_name)
    assert pad.compress_type == zipfile.ZIP_STORED
    assert archive.infolist()[-1] is pad
    return archive


def check_docx(data: bytes) -> None:
    archive = check_zip(data, "word/media/padding.bin")
    names = set(archive.namelist())
    assert {"[Content_Types].xml", "_rels/.rels", "word/document.xml"} <= names
    assert 'Extension="bin"' in archive.read("[Content_Types].xml").decode()
    document = archive.read("word/document.xml").decode("utf-8")
    assert TITLE in document and LINES[0] in document
    assert "Shift lead {nights} (weekends) \\ relief cover" in document


def check_zipfile(data: bytes) -> None:
    archive = check_zip(data, "data.bin")
    assert archive.read("README.txt").decode("utf-8").startswith(TITLE + "\n")


def check_rtf(data: bytes) -> None:
    assert data.startswith(b"{\\rtf1\\ansi") and data.endswith(b"}")
    text = data.decode("ascii")
    braces = [token for token in re.findall(r"\\.|[{}]", text) if token in "{}"]  # not \{ \}
    depth = 0
    for index, brace in enumerate(braces):
        depth += 1 if brace == "{" else -1
        assert depth > 0 or index == len(braces) - 1
    assert depth == 0
    assert "Zo\\u235? O'Brien" in text and "\\u8212?" in text
    assert "\\{nights\\}" in text


def check_txt(data: bytes) -> None:
    text = data.decode("utf-8")
    assert text.startswith(TITLE + "\n\n")
    assert all(line in text for line in LINES)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        pos += 12 + length
    assert pos == len(data)
    return chunks


def check_png(data: bytes) -> None:
    chunks = png_chunks(data)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-2:] == [b"IDAT", b"IEND"]
    assert set(kinds[1:-2]) == {b"pdPa"}
    width, height, depth, colour = struct.unpack_from(">IIBB", chunks[0][1])
    assert (depth, colour) == (8, 2)
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(pixels) == height * (1 + 3 * width)


def check_jpeg(data: bytes) -> None:
    assert data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")
    pos, markers = 2, []
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # SOS: entropy-coded data follows, then EOI
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        pos += 2 + length
    assert markers[0] == 0xE0 and {0xFE, 0xDB, 0xC0, 0xC4} <= set(markers)
    (length,) = struct.unpack_from(">H", data, pos + 2)
    assert b"\xff" not in data[pos + 2 + length : -2]


def check_exe(data: bytes) -> None:
    assert data.startswith(b"MZ")
    (pe,) = struct.unpack_from("<I", data, 0x3C)
    assert data[pe : pe + 4] == b"PE\0\0"
    assert struct.unpack_from("<HH", data, pe + 4) == (0x8664, 1)  # x86-64, one section


CHECKS: dict[str, Callable[[bytes], None]] = {
    "pdf": check_pdf,
    "docx": check_docx,
    "rtf": check_rtf,
    "txt": check_txt,
    "png": check_png,
    "jpeg": check_jpeg,
    "zip": check_zipfile,
    "exe": check_exe,
}


def test_tables_cover_every_kind() -> None:
    assert set(files.MIME) == set(files.EXTENSION) == set(files.KINDS) == set(CHECKS)
    assert files.EXTENSION["jpeg"] == ".jpg" and files.EXTENSION["pdf"] == ".pdf"
    assert files.MIME["docx"].endswith("wordprocessingml.document")


@pytest.mark.parametrize("kind", files.KINDS)
@pytest.mark.parametrize("extra", [0, 12_345, None])
def test_exact_size_deterministic_streamed_and_valid(kind: str, extra: int | None) -> None:
    size = BIG if extra is None else floor(kind) + extra
    data = render(kind, size)
    assert len(data) == size
    assert render(kind, size) == data
    chunks = list(files.stream_file(kind, size, SEED, TITLE, LINES, chunk_size=4096))
    assert b"".join(chunks) == data
    assert max(map(len, chunks)) <= 4096
    assert all(len(chunk) <= 65536 for chunk in files.stream_file(kind, size, 3, TITLE, LINES))
    if extra != 0:
        assert render(kind, size, seed=SEED + 1) != data
    CHECKS[kind](data)


@pytest.mark.parametrize("kind", files.KINDS)
def test_every_size_from_the_floor_up_is_reachable(kind: str) -> None:
    base = floor(kind)
    sizes = [*range(base, base + 40), *range(base + 65_500, base + 65_600)]
    sizes += [*range(base + 131_060, base + 131_120)]  # second PNG chunk / JPEG COM segment
    sizes += [size for size in (*range(9_990, 10_010), *range(99_990, 100_010)) if size >= base]
    for size in sizes:
        data = render(kind, size)
        assert len(data) == size, size
        CHECKS[kind](data)


@pytest.mark.parametrize("kind", files.KINDS)
def test_below_the_floor_is_refused_at_the_call(kind: str) -> None:
    least = floor(kind)
    with pytest.raises(ValueError, match=rf"{kind}.*{least}"):
        files.stream_file(kind, least - 1, SEED, TITLE, LINES)  # no iteration needed
    with pytest.raises(ValueError, match=rf"{kind}.*{least}"):
        render(kind, least - 1)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown file kind"):
        files.file_size_floor("gif", TITLE, LINES)
    with pytest.raises(ValueError, match="chunk_size"):
        files.stream_file("txt", 10_000, SEED, TITLE, LINES, chunk_size=0)


def test_floor_grows_with_the_text() -> None:
    for kind in ("pdf", "docx", "rtf", "txt", "zip"):
        assert files.file_size_floor(kind, TITLE, [*LINES, "Forklift licence, 2018"]) > floor(kind)
    assert files.file_size_floor("jpeg", TITLE, LINES) == files.file_size_floor("jpeg", "", [])


def test_pdf_pages_follow_the_lines() -> None:
    lines = [f"Reference {i}: a long line about duties and achievements " * 3 for i in range(80)]
    data = files.render_file("pdf", 300_000, SEED, TITLE, lines)
    assert re.search(rb"/Type /Pages /Kids \[[^\]]*\] /Count (\d+)", data).group(1) != b"1"
    check_pdf(data)


def test_txt_padding_is_plausible_ascii_lines() -> None:
    text = render("txt", floor("txt") + 5_000).decode("utf-8")
    padding = text[len(files.render_file("txt", floor("txt"), SEED, TITLE, LINES).decode()) :]
    assert padding.isascii() and padding.startswith("\n") and "\n" in padding[1:]
    assert "Reference available on request." in padding


def test_streaming_a_25_mib_pdf_stays_small_and_fast() -> None:
    size, total = 26_214_401, 0
    tracemalloc.start()
    try:
        for chunk in files.stream_file("pdf", size, SEED, TITLE, LINES):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 2_000_000
    started = time.perf_counter()
    for kind in files.KINDS:
        assert sum(map(len, files.stream_file(kind, size, SEED, TITLE, LINES))) == size
    assert time.perf_counter() - started < 8  # about 0.1 s in practice, for all eight kinds
