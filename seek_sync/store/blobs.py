"""The blob store: files content-addressed under each hirer's own prefix, through fsspec.

A blob's key is `{hirer prefix}/{sha256[:2]}/{sha256}`; the same bytes for two hirers are stored
twice, so no path ever mixes hirers. The root is any fsspec URL: a local path (`file://`) or an
S3 bucket and prefix (`s3://bucket/prefix`, through s3fs, with an optional S3-compatible endpoint
and the usual AWS variables). The warehouse stores keys, relative to the root, never the root:
moving a home or a bucket changes no row. Downloads stream into a temporary blob that is moved to
its key once its SHA-256 is known.
"""

from __future__ import annotations

import re
import uuid
from typing import BinaryIO

import fsspec
from fsspec.core import url_to_fs

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def hirer_prefix(hirer_id: str) -> str:
    """A path segment for a hirer id (`:` and other unsafe characters become `_`)."""
    prefix = _UNSAFE.sub("_", hirer_id)
    if not prefix.strip("._"):
        raise ValueError("hirer id gives an empty blob prefix")
    return prefix


class OnDemandWriteError(PermissionError):
    """A write for a hirer whose documents are never stored (`attachments: on_demand`)."""


class BlobStore:
    """Content-addressed blobs under `url` (e.g. `file:///data/blobs`, `s3://bucket/blobs`);
    it refuses to write for the hirers in `refused` (those on demand)."""

    def __init__(
        self, url: str, *, endpoint_url: str | None = None, refused: frozenset[str] = frozenset()
    ) -> None:
        self.url = url.rstrip("/")
        self.refused = refused
        options: dict[str, object] = {}
        if self.url.startswith(("s3://", "s3a://")):
            # Other processes write the bucket too: never answer from a cached listing.
            options["use_listings_cache"] = False
            if endpoint_url:
                options["endpoint_url"] = endpoint_url
        fs, root = url_to_fs(self.url, **options)
        self.fs: fsspec.AbstractFileSystem = fs
        self.root = root.rstrip("/")

    def key_for(self, hirer_id: str, sha256: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        return f"{hirer_prefix(hirer_id)}/{sha256[:2]}/{sha256}"

    def path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def uri(self, key: str) -> str:
        """The full URL of a key (for people and logs of paths; the warehouse keeps the key)."""
        return f"{self.url}/{key}"

    def is_hirers(self, hirer_id: str, key: str) -> bool:
        """Whether a key lies under the hirer's own prefix."""
        return key.startswith(hirer_prefix(hirer_id) + "/")

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self.path(key)))

    def open(self, key: str) -> BinaryIO:
        return self.fs.open(self.path(key), "rb")  # type: ignore[no-any-return]

    def read_bytes(self, key: str) -> bytes:
        return bytes(self.fs.cat_file(self.path(key)))

    def size(self, key: str) -> int:
        return int(self.fs.size(self.path(key)))

    def delete(self, key: str) -> int:
        """Remove one blob; returns the bytes it held (0 if it was not there)."""
        if not self.exists(key):
            return 0
        size = self.size(key)
        self.fs.rm(self.path(key))
        return size

    def delete_hirer(self, hirer_id: str) -> None:
        """Remove the hirer's whole prefix (a hirer purge)."""
        prefix = self.path(hirer_prefix(hirer_id))
        if self.fs.exists(prefix):
            self.fs.rm(prefix, recursive=True)

    def sweep_temp(self, hirer_id: str) -> int:
        """Remove the hirer's temporary blobs: downloads a killed process left half-written.

        Call only while holding the hirer (its lease): then no live download writes there."""
        temp_dir = self.path(f"{hirer_prefix(hirer_id)}/tmp")
        if not self.fs.exists(temp_dir):
            return 0
        found = self.fs.ls(temp_dir, detail=False)
        for path in found:
            self.fs.rm(path)
        return len(found)

    def holds(self, hirer_id: str) -> int:
        """How many files are under the hirer's prefix (temporary ones included)."""
        prefix = self.path(hirer_prefix(hirer_id))
        return len(self.fs.find(prefix)) if self.fs.exists(prefix) else 0

    def sink(self, hirer_id: str) -> BlobSink:
        if hirer_id in self.refused:
            raise OnDemandWriteError(f"hirer {hirer_id} is on demand: its files are never stored")
        return BlobSink(self, hirer_id)


class BlobSink:
    """A download sink: writes a temporary blob, then `commit(sha256)` moves it to its key."""

    def __init__(self, store: BlobStore, hirer_id: str) -> None:
        self.store = store
        self.hirer_id = hirer_id
        self.temp_key = f"{hirer_prefix(hirer_id)}/tmp/{uuid.uuid4().hex}"
        self._file: BinaryIO | None = None

    def begin(self) -> None:
        self.close()
        self.store.fs.makedirs(self.store.path(self.temp_key).rsplit("/", 1)[0], exist_ok=True)
        self._file = self.store.fs.open(self.store.path(self.temp_key), "wb")

    def write(self, chunk: bytes) -> None:
        assert self._file is not None, "begin() first"
        self._file.write(chunk)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def commit(self, sha256: str) -> str:
        """Move the finished download to its content address; returns the key."""
        self.close()
        key = self.store.key_for(self.hirer_id, sha256)
        final, temp = self.store.path(key), self.store.path(self.temp_key)
        if self.store.fs.exists(final):
            self.store.fs.rm(temp)
        else:
            self.store.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
            self.store.fs.mv(temp, final)
        return key

    def discard(self) -> None:
        self.close()
        if self.store.fs.exists(self.store.path(self.temp_key)):
            self.store.fs.rm(self.store.path(self.temp_key))
