"""Rewriting the warehouse file so that deleted rows are gone from its bytes, not only hidden.

DuckDB keeps deleted rows in free blocks until they are overwritten: a purge therefore rewrites
the whole file (`COPY FROM DATABASE` into a fresh file, then an atomic rename) while it holds the
warehouse exclusively. Every `Warehouse.connect` holds a shared lock on `<file>.lock` for the life
of its connection, so no process has the file open while it is swapped.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


@contextmanager
def file_lock(path: Path, *, exclusive: bool) -> Iterator[None]:
    """Shared (connections) or exclusive (a rebuild) lock beside the warehouse file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def rebuild(path: Path) -> int:
    """Copy every table into a fresh file and put it in place of `path`; returns the new size.
    The caller holds the exclusive `file_lock` and has no connection open."""
    fresh = path.with_name(path.name + ".rebuild")
    fresh.unlink(missing_ok=True)
    connection = duckdb.connect(str(path))
    try:
        connection.execute("CHECKPOINT")  # everything in the file, the WAL empty
        (name,) = connection.execute("SELECT current_database()").fetchone()  # type: ignore[misc]
        connection.execute(f"ATTACH '{fresh}' AS fresh_copy")
        connection.execute(f'COPY FROM DATABASE "{name}" TO fresh_copy')
        connection.execute("DETACH fresh_copy")
    finally:
        connection.close()
    path.with_name(path.name + ".wal").unlink(missing_ok=True)  # checkpointed: nothing in it
    os.replace(fresh, path)
    return path.stat().st_size
