"""Real, valid, deterministic attachment files for the sandbox's fake SEEK.

Each kind is a small genuine document showing `title` and `lines` (a PDF, an OOXML package, RTF,
UTF-8 text, a PNG, a baseline JPEG, a zip archive, a PE stub), padded to an exact byte size where
readers ignore it: an unreferenced PDF stream, a stored zip member, an ignorable RTF destination,
private PNG chunks, JPEG comments. Padding repeats a shared 64 KiB block picked by `seed`
(`file_parts.py`) and is streamed, never materialised: a 25 MiB file costs a few hundred KiB of
memory, and a download costs little more CPU than laying out its own text.
"""

from __future__ import annotations

import struct
import textwrap
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Sequence
from functools import cache, lru_cache
from xml.sax.saxutils import escape

from seek_sync.sandbox.file_parts import (
    BLOCK,
    Fill,
    Part,
    binary_block,
    chunks,
    fill_crc,
    sizes,
    text_block,
    total,
)

KINDS: tuple[str, ...] = ("pdf", "docx", "rtf", "txt", "png", "jpeg", "zip", "exe")
MIME: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "rtf": "application/rtf",
    "txt": "text/plain",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "zip": "application/zip",
    "exe": "application/vnd.microsoft.portable-executable",
}
EXTENSION: dict[str, str] = {kind: "." + kind for kind in KINDS} | {"jpeg": ".jpg"}

_MAX_SIZE = 0xFFFFFFFF  # zip offsets and PE sizes are 32-bit
_Builder = Callable[[int, int, str, list[str]], list[Part]]


def _pdf_text(text: str) -> str:
    """The body of a PDF literal string in WinAnsiEncoding, kept ASCII with octal escapes."""
    return "".join(map(_pdf_char, text))


@lru_cache(maxsize=4096)
def _pdf_char(char: str) -> str:
    try:
        raw = char.encode("cp1252")
    except UnicodeEncodeError:  # drop accents cp1252 lacks (ő -> o), else "?"
        raw = unicodedata.normalize("NFKD", char).encode("cp1252", "ignore") or b"?"
    out = []
    for byte in raw:
        escaped = "\\" + chr(byte) if byte in b"()\\" else chr(byte)
        out.append(escaped if 32 <= byte < 127 else f"\\{byte:03o}")
    return "".join(out)


def _pdf(extra: int, seed: int, title: str, lines: list[str]) -> list[Part]:
    rows = [row for line in lines for row in (textwrap.wrap(line, 88) or [""])]
    pages = [rows[:48]] + [rows[i : i + 50] for i in range(48, len(rows), 50)]
    kids = " ".join(f"{5 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Title <FEFF{title.encode('utf-16-be', 'replace').hex().upper()}>"
        " /Producer (seek-sync sandbox) >>",
    ]
    for i, page in enumerate(pages):
        start = f"72 770 Td /F1 18 Tf ({_pdf_text(title)}) Tj 0 -14 Td" if i == 0 else "72 784 Td"
        body = "".join(f"T* ({_pdf_text(row)}) Tj\n" for row in page)
        content = f"BT\n{start}\n/F1 11 Tf 14 TL\n{body}ET"
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources"
            f" << /Font << /F1 3 0 R >> >> /Contents {6 + 2 * i} 0 R >>"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
    head, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(head))
        head += f"{number} 0 obj\n{body}\nendobj\n".encode("ascii")
    offsets.append(len(head))
    pad_head, pad_tail = b"%d 0 obj\n<< /Length %%10d >>\nstream\n" % (len(offsets)), b"\nendstream"
    fixed = len(head) + len(pad_head % 0) + len(pad_tail) + len(b"\nendobj\n")
    # The startxref number gains a digit now and then; a space in the trailer fills any gap.
    n, slack = next(
        (n, slack)
        for slack in (0, 1)
        for n in range(extra - slack, max(-1, extra - slack - 16), -1)
        if len(str(fixed + n)) - len(str(fixed)) == extra - slack - n
    )
    xref = b"\nendobj\nxref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    xref += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = f"<< /Size {len(offsets) + 1} /Root 1 0 R /Info 4 0 R{' ' * slack} >>"
    xref += f"trailer\n{trailer}\nstartxref\n{fixed + n}\n%%EOF\n".encode()
    return [bytes(head), pad_head % n, Fill(binary_block(seed), n), pad_tail + xref]


def _zip(members: list[tuple[str, bytes]], pad_name: str, pad: Fill) -> list[Part]:
    """A zip of deflated `members`, then `pad` stored as `pad_name`; DOS date 1980-01-01."""
    parts: list[Part] = []
    central, offset = bytearray(), 0
    for name, data in [*members, (pad_name, b"")]:
        if name == pad_name:
            method, crc, usize, payload = 0, fill_crc(pad), pad.n, pad
        else:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            method, crc, usize = 8, zlib.crc32(data), len(data)
            payload = packer.compress(data) + packer.flush()
        raw, size = name.encode("ascii"), total([payload])
        common = struct.pack("<HHHHIIIHH", 0, method, 0, 0x21, crc, size, usize, len(raw), 0)
        parts += [b"PK\x03\x04\x14\x00" + common + raw, payload]
        central += b"PK\x01\x02\x14\x00\x14\x00" + common + bytes(10) + struct.pack("<I", offset)
        central += raw
        offset += 30 + len(raw) + size
    count = len(members) + 1
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, len(central), offset, 0)
    return [*parts, bytes(central), end]


def _plain(title: str, lines: list[str]) -> bytes:
    return "\n".join([title, "", *lines, ""]).encode("utf-8", "replace")


def _txt(extra: int, seed: int, title: str, lines: list[str]) -> list[Part]:
    return [_plain(title, lines), Fill(text_block(seed), extra)]


def _zipfile(extra: int, seed: int, title: str, lines: list[str]) -> list[Part]:
    return _zip([("README.txt", _plain(title, lines))], "data.bin", Fill(binary_block(seed), extra))


_OOXML = "http://schemas.openxmlformats.org/"
_DOCX_PARTS = {
    "[Content_Types].xml": f'<Types xmlns="{_OOXML}package/2006/content-types"><Default'
    ' Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/><Default Extension="bin"'
    ' ContentType="application/octet-stream"/><Override PartName="/word/document.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main'
    '+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{_OOXML}package/2006/relationships"><Relationship'
    f' Id="rId1" Type="{_OOXML}officeDocument/2006/relationships/officeDocument"'
    ' Target="word/document.xml"/></Relationships>',
}


def _docx(extra: int, seed: int, title: str, lines: list[str]) -> list[Part]:
    def run(text: str, style: str = "") -> str:
        clean = escape(text.translate(dict.fromkeys([*range(9), 11, 12, *range(14, 32)])))
        return f'<w:p><w:r>{style}<w:t xml:space="preserve">{clean}</w:t></w:r></w:p>'

    body = run(title, '<w:rPr><w:b/><w:sz w:val="32"/></w:rPr>') + "".join(map(run, lines))
    document = (
        f'<w:document xmlns:w="{_OOXML}wordprocessingml/2006/main"><w:body>{body}<w:sectPr>'
        '<w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>'
    )
    parts = {**_DOCX_PARTS, "word/document.xml": document}
    xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    members = [(name, (xml + text).encode("utf-8", "replace")) for name, text in parts.items()]
    return _zip(members, "word/media/padding.bin", Fill(binary_block(seed), extra))


def _rtf_text(text: str) -> str:
    out = []
    for char in text:
        if char in "\\{}":
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        elif char > "\x7f":  # \uN? with N a signed UTF-16 unit, "?" for readers without Unicode
            units = memoryview(char.encode("utf-16-le", "surrogatepass")).cast("h")
            out.extend(f"\\u{unit}?" for unit in units)
        elif char == "\t":
            out.append("\\tab ")
    return "".join(out)


def _rtf(extra: int, seed: int, title: str, lines: list[str]) -> list[Part]:
    name = _rtf_text(title)
    head = [
        r"{\rtf1\ansi\ansicpg1252\deff0\uc1{\fonttbl{\f0\fswiss Helvetica;}}",
        rf"{{\info{{\title {name}}}}}\f0\fs22{{\b\fs32 {name}}}\par\par",
        *(rf"{_rtf_text(line)}\par" for line in lines),
        r"{\*\seeksyncpadding ",
    ]
    return ["\n".join(head).encode("ascii"), Fill(text_block(seed), extra), b"}}"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def _png_image() -> tuple[bytes, bytes]:
    """Signature and IHDR, then IDAT and IEND, of a 64x48 RGB gradient."""
    rows = (bytes([1, 0, y * 5, 160, *(4, 0, 0) * 63]) for y in range(48))  # "Sub" filter
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 48, 8, 2, 0, 0, 0))
    pixels = _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
    return b"\x89PNG\r\n\x1a\n" + header, pixels + _chunk(b"IEND", b"")


def _png(extra: int, seed: int, title: str, lines: list[str]) -> list[Part]:
    head, tail = _png_image()
    parts: list[Part] = [head]
    for size in sizes(12 + extra, 12, BLOCK):  # private, ancillary, safe-to-copy "pdPa" chunks
        fill = Fill(binary_block(seed), size)
        crc = fill_crc(fill, zlib.crc32(b"pdPa"))
        parts += [struct.pack(">I", size) + b"pdPa", fill, struct.pack(">I", crc)]
    return [*parts, tail]


# An 8x8 baseline greyscale JPEG (level 200): JFIF APP0, DQT of 8s, SOF0, one-symbol DC and AC
# Huffman tables, SOS, entropy data (DC category 7, value 72; EOB), EOI.
_JPEG_HEAD = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")
_JPEG_BODY = bytes.fromhex(
    "ffdb004300" + "08" * 64 + "ffc0000b080008000801011100ffc400140001" + "00" * 15 + "07"
    "ffc400141001" + "00" * 16 + "ffda0008010100003f00487fffd9"
)


def _jpeg(extra: int, seed: int, title: str, lines: list[str]) -> list[Part]:
    parts: list[Part] = [_JPEG_HEAD]
    for size in sizes(4 + extra, 4, 65533):  # COM segments
        parts += [b"\xff\xfe" + struct.pack(">H", size + 2), Fill(text_block(seed), size)]
    return [*parts, _JPEG_BODY]


def _exe(extra: int, seed: int, title: str, lines: list[str]) -> list[Part]:
    """A PE32+ console image: DOS header and stub, PE headers, one section of padding."""
    head = bytearray(0x200)
    head[:0x1A] = bytes.fromhex("4d5a90000300000004000000ffff0000b8000000000000004000")
    head[0x3C:0x40] = struct.pack("<I", 0x80)
    head[0x40:0x4E] = bytes.fromhex("0e1fba0e00b409cd21b8014ccd21")  # print the message, exit
    head[0x4E:0x79] = b"This program cannot be run in DOS mode.\r\r\n$"
    image = 0x1000 + -(-extra // 0x1000) * 0x1000
    pe = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 240, 0x22)
    pe += struct.pack("<HBBIIIII", 0x20B, 14, 0, extra, 0, 0, 0x1000, 0x1000)
    optional = (0x140000000, 0x1000, 0x200, 6, 0, 0, 0, 6, 0, 0, image, 0x200, 0, 3, 0x8160)
    pe += struct.pack("<QIIHHHHHHIIIIHHQQQQII", *optional, 1 << 20, 4096, 1 << 20, 4096, 0, 16)
    pe += bytes(128)  # 16 empty data directories
    pe += struct.pack("<8sIIIIIIHHI", b".text", extra, 0x1000, extra, 0x200, 0, 0, 0, 0, 0x60000020)
    head[0x80 : 0x80 + len(pe)] = pe
    return [bytes(head), Fill(binary_block(seed), extra)]


_BUILDS = (_pdf, _docx, _rtf, _txt, _png, _jpeg, _zipfile, _exe)
_BUILDERS: dict[str, _Builder] = dict(zip(KINDS, _BUILDS, strict=True))


def _layout(kind: str, extra: int, seed: int, title: str, lines: Sequence[str]) -> list[Part]:
    if kind not in _BUILDERS:
        raise ValueError(f"unknown file kind {kind!r}; expected one of {', '.join(KINDS)}")
    rows = [row for line in lines for row in (line.splitlines() or [""])]
    return _BUILDERS[kind](extra, seed, title, rows)


def file_size_floor(kind: str, title: str, lines: Sequence[str]) -> int:
    """The smallest size, in bytes, at which `kind` can be rendered with this text."""
    return total(_layout(kind, 0, 0, title, lines))


def stream_file(
    kind: str, size: int, seed: int, title: str, lines: Sequence[str], chunk_size: int = 65536
) -> Iterator[bytes]:
    """The file in chunks of at most `chunk_size` bytes, `size` bytes in all.

    Arguments are checked (ValueError) at the call, before the first chunk is asked for.
    """
    floor = file_size_floor(kind, title, lines)
    if not floor <= size <= _MAX_SIZE:
        raise ValueError(f"a {kind} file with this text takes {floor}..{_MAX_SIZE} bytes: {size}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, not {chunk_size}")
    parts = _layout(kind, size - floor, seed, title, lines)
    if total(parts) != size:  # a layout bug, never the caller's fault
        raise AssertionError(f"the {kind} layout is {total(parts)} bytes, not {size}")
    return chunks(parts, chunk_size)


def render_file(kind: str, size: int, seed: int, title: str, lines: Sequence[str]) -> bytes:
    """The whole file at once: `b"".join(stream_file(...))`."""
    return b"".join(stream_file(kind, size, seed, title, lines))
