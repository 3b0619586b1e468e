"""The blob store on local files and S3: content-addressed per hirer, temp-then-commit, never
mixing hirers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import boto3
import pytest

from seek_sync.backend import open_blobs
from seek_sync.settings import BlobFields, load
from seek_sync.store.blobs import BlobStore, OnDemandWriteError, hirer_prefix
from tests.backends import Backend

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


def store_of(backend: Backend) -> BlobStore:
    return open_blobs(load(BlobFields, **backend.overrides))


def files_under(store: BlobStore, hirer_id: str) -> list[str]:
    prefix = store.path(hirer_prefix(hirer_id))
    return sorted(store.fs.find(prefix)) if store.fs.exists(prefix) else []


def test_content_addressed_under_the_hirer_prefix(backend: Backend) -> None:
    store = store_of(backend)
    data = b"%PDF-1.4 resume bytes"
    key = put(store, HIRER_A, data)
    sha = hashlib.sha256(data).hexdigest()
    assert key == f"{hirer_prefix(HIRER_A)}/{sha[:2]}/{sha}"
    assert store.read_bytes(key) == data and store.size(key) == len(data)
    assert files_under(store, HIRER_A) == [store.path(key)]  # no temp file left
    if backend.is_server:  # the object, under the bucket's prefix, seen by a plain S3 client
        bucket, prefix = store.url.removeprefix("s3://").split("/", 1)
        s3 = boto3.client("s3", endpoint_url=backend.env["SEEK_SYNC_S3_ENDPOINT_URL"])
        assert s3.get_object(Bucket=bucket, Key=f"{prefix}/{key}")["Body"].read() == data


def test_same_bytes_for_two_hirers_are_two_blobs(backend: Backend) -> None:
    store = store_of(backend)
    a, b = put(store, HIRER_A, b"same"), put(store, HIRER_B, b"same")
    assert a != b and a.split("/")[0] != b.split("/")[0]
    assert put(store, HIRER_A, b"same") == a  # stored once per hirer


def test_discard_leaves_nothing(backend: Backend) -> None:
    store = store_of(backend)
    sink = store.sink(HIRER_A)
    sink.begin()
    sink.write(b"partial")
    sink.discard()
    assert files_under(store, HIRER_A) == []


def test_temp_sweep_and_hirer_delete(backend: Backend) -> None:
    store = store_of(backend)
    kept, gone = put(store, HIRER_B, b"b's file"), put(store, HIRER_A, b"a's file")
    half = store.sink(HIRER_A)
    half.begin()
    half.write(b"a download a killed process left")
    half.close()
    assert store.sweep_temp(HIRER_A) == 1 and files_under(store, HIRER_A) == [store.path(gone)]
    assert store.delete(gone) == len(b"a's file") and store.delete(gone) == 0
    put(store, HIRER_A, b"another")
    store.delete_hirer(HIRER_A)
    assert files_under(store, HIRER_A) == [] and store.exists(kept)


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


def test_no_write_for_a_hirer_on_demand(tmp_path: Path) -> None:
    store = BlobStore((tmp_path / "blobs").as_uri(), refused=frozenset({HIRER_B}))
    put(store, HIRER_A, b"kept")  # positive control: other hirers are stored as ever
    assert store.holds(HIRER_A) == 1
    with pytest.raises(OnDemandWriteError, match="on demand"):
        store.sink(HIRER_B)
    assert store.holds(HIRER_B) == 0
    assert not (tmp_path / "blobs" / hirer_prefix(HIRER_B)).exists()
