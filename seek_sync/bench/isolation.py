"""Each benchmarked path starts from empty state, on the server backend too.

Embedded, a path's state is its own home. On the server backend (`SEEK_SYNC_DATABASE_URL` set)
the paths would share one schema and one blob prefix, so the second would find the first's work
done: each path gets a schema and a blob prefix of its own for the run, dropped afterwards (with
the Dagster schema its stack made beside it). Never touches the configured schema itself.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from fsspec.core import url_to_fs
from psycopg import sql

from seek_sync.dagster_instance import SCHEMA_SUFFIX
from seek_sync.store.warehouse_postgres import conninfo


@contextmanager
def own_state(kind: str) -> Iterator[dict[str, str]]:
    """The settings that give path `kind` state of its own (none needed when embedded)."""
    url = os.environ.get("SEEK_SYNC_DATABASE_URL")
    if not url:
        yield {}
        return
    base = os.environ.get("SEEK_SYNC_DATABASE_SCHEMA", "seek_sync")
    schema = f"{base}_bench_{uuid.uuid4().hex[:8]}_{kind}"[:48]
    env = {"SEEK_SYNC_DATABASE_SCHEMA": schema}
    blob_url = os.environ.get("SEEK_SYNC_BLOB_URL")
    if blob_url:
        env["SEEK_SYNC_BLOB_URL"] = f"{blob_url.rstrip('/')}/{schema}"
    try:
        yield env
    finally:
        with psycopg.connect(conninfo(url), autocommit=True) as connection:
            for name in (schema, schema + SCHEMA_SUFFIX):
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                )
        if blob_url:
            endpoint = os.environ.get("SEEK_SYNC_S3_ENDPOINT_URL")
            options = {"endpoint_url": endpoint} if endpoint else {}
            fs, root = url_to_fs(env["SEEK_SYNC_BLOB_URL"], **options)
            if fs.exists(root):
                fs.rm(root, recursive=True)
