"""The blob store: content-addressed per hirer, temp-then-commit, never mixing hirers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from seek_sync.store.blobs import BlobStore, hirer_prefix

HIRER_A = "seekAnzPublicTest:organization:seek:AAAA1111"
HIRER_B = "seekAnzPublicTest:organization:seek:BBBB2222"


def put(store: BlobStore, hirer: str, data: bytes) -> str:
    sink = store.sink(hirer)
    sink.begin()
    sink.write(data[:3])
    sink.begin()  # a retried download starts over
    for i in range(0, len(data), 4):
        sink.write(data[i : i + 4])
    return sink.commit(hashlib.sha256(data).hexdigest())


def test_content_addressed_under_the_hirer_prefix(tmp_path: Path) -> None:
    store = BlobStore((tmp_path / "blobs").as_uri())
    data = b"%PDF-1.4 resume bytes"
    key = put(store, HIRER_A, data)
    sha = hashlib.sha256(data).hexdigest()
    assert key == f"{hirer_prefix(HIRER_A)}/{sha[:2]}/{sha}"
    assert store.read_bytes(key) == data and store.size(key) == len(data)
    assert (tmp_path / "blobs" / key).exists()
    assert list((tmp_path / "blobs" / hirer_prefix(HIRER_A) / "tmp").iterdir()) == []


def test_same_bytes_for_two_hirers_are_two_blobs(tmp_path: Path) -> None:
    store = BlobStore((tmp_path / "blobs").as_uri())
    a, b = put(store, HIRER_A, b"same"), put(store, HIRER_B, b"same")
    assert a != b and a.split("/")[0] != b.split("/")[0]
    assert put(store, HIRER_A, b"same") == a  # stored once per hirer


def test_discard_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore((tmp_path / "blobs").as_uri())
    sink = store.sink(HIRER_A)
    sink.begin()
    sink.write(b"partial")
    sink.discard()
    assert not any(p.is_file() for p in (tmp_path / "blobs").rglob("*"))


def test_bad_keys() -> None:
    store = BlobStore("memory://blobs")
    with pytest.raises(ValueError, match="sha256"):
        store.key_for(HIRER_A, "../../etc/passwd")
    with pytest.raises(ValueError, match="prefix"):
        hirer_prefix("...")


def test_any_fsspec_url(tmp_path: Path) -> None:
    store = BlobStore("memory://seek-sync-test/blobs")
    key = put(store, HIRER_A, b"in memory")
    assert store.exists(key) and store.read_bytes(key) == b"in memory"
