"""The blobs of an embedded home copied to another blob root, for `seek-sync migrate`.

A blob's key is its address (`<hirer prefix>/<sha[:2]>/<sha256>`), so a blob already at the
destination is the same file and is never copied again. Each copy streams through the
destination's own sink (a temporary blob moved to its key once complete, so a killed copy never
leaves a partial file under a key) and is hashed on the way: bytes that do not match their
address stop the migration. Temporary blobs of the home (`<hirer>/tmp/...`) are not copied.
No Dagster here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from seek_sync.store.blobs import BlobStore

KEY = re.compile(r"[A-Za-z0-9._-]+/([0-9a-f]{2})/(\1[0-9a-f]{62})")
CHUNK = 1 << 20


class BlobCopyError(RuntimeError):
    """A blob whose bytes are not those its key names (one line)."""


@dataclass
class BlobsMoved:
    home: int  # blobs in the home
    there: int  # of those, how many the destination holds afterwards
    extra: int  # blobs at the destination the home does not hold, afterwards
    copied: int = 0
    removed: int = 0


def blob_keys(store: BlobStore) -> set[str]:
    """Every content-addressed blob under the store's root (temporary blobs left out)."""
    if not store.fs.exists(store.root):
        return set()
    prefix = store.root + "/"
    found = (str(path).removeprefix(prefix) for path in store.fs.find(store.root))
    return {key for key in found if KEY.fullmatch(key)}


def copy_blob(source: BlobStore, destination: BlobStore, key: str) -> None:
    """One blob to the same key at `destination`, its SHA-256 checked against the key."""
    prefix, _, sha256 = key.split("/")
    sink = destination.sink(prefix)  # a hirer prefix is its own prefix (only safe characters)
    digest = hashlib.sha256()
    sink.begin()
    try:
        with source.open(key) as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                sink.write(chunk)
    except BaseException:
        sink.discard()
        raise
    if digest.hexdigest() != sha256:
        sink.discard()
        raise BlobCopyError(f"blob {key}: its bytes do not match its address; nothing copied")
    sink.commit(sha256)


def copy_absent(source: BlobStore, destination: BlobStore, keys: set[str]) -> int:
    """Copy the blobs of `keys` that the destination does not hold; returns how many."""
    missing = sorted(keys - blob_keys(destination))
    for key in missing:
        copy_blob(source, destination, key)
    return len(missing)


def remove(destination: BlobStore, keys: set[str]) -> int:
    """Delete `keys` at the destination (blobs the home no longer holds)."""
    for key in sorted(keys):
        destination.delete(key)
    return len(keys)


def count(home: set[str], destination: BlobStore) -> BlobsMoved:
    there = blob_keys(destination)
    return BlobsMoved(len(home), len(home & there), len(there - home))
