"""The fast paths of sniffing give the answers of the libraries they stand in for."""

from __future__ import annotations

import random

import puremagic
import pytest

from seek_sync.sandbox.files import KINDS, render_file
from seek_sync.sandbox.seek_routes import content_disposition
from seek_sync.sandbox.world import build_world
from seek_sync.seek import magic
from seek_sync.seek.sniff import (
    _SIMPLE_DISPOSITION,
    HEAD_BYTES,
    _rfc6266_filename,
    original_filename,
)


def _answer(find: object, sample: bytes) -> object:
    try:
        return find(sample)  # type: ignore[operator]
    except puremagic.PureError:
        return "no match"


def _samples() -> list[bytes]:
    rng = random.Random(20)
    rendered = [
        render_file(kind, size, seed, "Curriculum vitae", ["Line one", "Zoë – line two"])
        for kind in KINDS
        for size in (4_000, 9_000, 120_000)
        for seed in range(3)
    ]
    odd = [b"GIF89a" + bytes(40), b"\xff\xd8\xff\xe1" + bytes(40), b"%PDF-1.7\n", b"\x89PNG"]
    odd += [b"<?xml version='1.0'?><a/>", b"#!/bin/sh\necho hi\n", b"Candidate idat notes\n"]
    noise = [rng.randbytes(rng.randrange(1, HEAD_BYTES + 500)) for _ in range(200)]
    return [sample[:HEAD_BYTES] for sample in rendered + odd + noise]


def test_indexed_matching_answers_as_puremagic_does() -> None:
    samples = _samples()
    for sample in samples:
        assert _answer(magic.magic_string, sample) == _answer(puremagic.magic_string, sample)
    assert sum(_answer(magic.magic_string, s) != "no match" for s in samples) >= len(KINDS) * 9
    with pytest.raises(ValueError):
        magic.magic_string(b"")


def test_the_simple_content_disposition_reads_as_pyrfc6266_does() -> None:
    world = build_world(seed=3, applications=80, hirers=2, edge_cases=True)
    names = {a.filename for app in world.applications.values() for a in app.attachments}
    names |= {"cv.pdf", "Zoë O'Brien – CV (final).pdf", "a;b=c.pdf", "%41.pdf", " ", ""}
    fast = 0
    for name in sorted(names):
        header = content_disposition(name)
        assert original_filename(header) == _rfc6266_filename(header), name
        fast += _SIMPLE_DISPOSITION.fullmatch(header) is not None
    assert fast >= len(names) * 0.8  # the fast path is the common one
    for header in ("attachment; filename*=UTF-8''%FF.pdf", 'inline; filename=""', "form-data"):
        assert original_filename(header) == _rfc6266_filename(header)
