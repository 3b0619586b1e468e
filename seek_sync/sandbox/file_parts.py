"""The parts a sandbox file is laid out in, the padding blocks they repeat, and their streaming.

A file (`files.py`) is a list of parts: literal bytes, and `Fill`s that repeat the start of a
64 KiB padding block up to an exact length. Padding blocks come from a small pool per flavour
(random bytes, or plausible ASCII text lines) picked by the attachment's seed: each block is drawn
once per process and shared by every download, so serving a file costs no padding work and memory
stays flat however many files are served. `chunks` streams the parts without ever joining them.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import NamedTuple

BLOCK = 65536
POOL = 16  # padding blocks per flavour: 2 MiB in all
_WORDS = ("delivered", "supported", "managed", "reported", "rosters", "customers", "quality")


class Fill(NamedTuple):
    """The first `n` bytes of `block`, repeated end to end."""

    block: bytes
    n: int


Part = bytes | Fill


def binary_block(seed: int) -> bytes:
    """A block of random bytes, the same for every seed of one residue modulo `POOL`."""
    return _binary_pool(seed % POOL)


def text_block(seed: int) -> bytes:
    """ASCII lines without backslashes or braces, starting and ending with a newline."""
    return _text_pool(seed % POOL)


@lru_cache(maxsize=POOL)
def _binary_pool(seed: int) -> bytes:
    return random.Random(seed).randbytes(BLOCK)


@lru_cache(maxsize=POOL)
def _text_pool(seed: int) -> bytes:
    rng, out, used = random.Random(f"text:{seed}"), ["\n"], 1
    while True:
        words = rng.choices(_WORDS, k=rng.randint(5, 11))
        line = " ".join(words).capitalize() + "." if rng.random() < 0.7 else ""
        line = line or "Reference available on request."
        if used + len(line) + 1 > BLOCK - 1:
            break
        out.append(line + "\n")
        used += len(line) + 1
    return ("".join(out) + " " * (BLOCK - 1 - used) + "\n").encode("ascii")


def total(parts: Sequence[Part]) -> int:
    return sum(part.n if isinstance(part, Fill) else len(part) for part in parts)


def fill_crc(fill: Fill, value: int = 0) -> int:
    """The CRC-32 of `fill`'s bytes, continuing from `value`."""
    full, rest = divmod(fill.n, len(fill.block))
    for _ in range(full):
        value = zlib.crc32(fill.block, value)
    return zlib.crc32(memoryview(fill.block)[:rest], value)


def sizes(room: int, overhead: int, most: int) -> list[int]:
    """Payload sizes of the fewest segments (`overhead` + 0..`most` bytes each) filling `room`."""
    count, found = max(1, -(-room // (overhead + most))), []
    payload = room - overhead * count
    for _ in range(count):
        found.append(min(most, payload))
        payload -= found[-1]
    return found


def _pieces(parts: list[Part]) -> Iterator[bytes]:
    for part in parts:
        if isinstance(part, Fill):
            full, rest = divmod(part.n, len(part.block))
            yield from [part.block] * full + [part.block[:rest]]
        else:
            yield part


def chunks(parts: list[Part], chunk_size: int) -> Iterator[bytes]:
    """The parts' bytes in chunks of exactly `chunk_size` bytes but the last."""
    buffer = bytearray()
    for piece in _pieces(parts):
        view = memoryview(piece)
        while len(buffer) + len(view) >= chunk_size:
            take = chunk_size - len(buffer)
            yield bytes(buffer + view[:take]) if buffer else bytes(view[:take])
            buffer.clear()
            view = view[take:]
        buffer += view
    if buffer:
        yield bytes(buffer)
