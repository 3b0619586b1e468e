"""The warehouse's schema as migrations (component `warehouse`), on DuckDB and PostgreSQL alike.

Version 1 is the schema of the last release before versioning (`TABLES` with `ADDED_COLUMNS`, and
the purge audit table), so a warehouse it made upgrades in place. Version 2 makes every stored
blob address a key relative to the blob root (`{hirer prefix}/{sha[:2]}/{sha}`), so moving a home
or a bucket moves nothing in the warehouse. An embedded file upgrades itself when opened; a server
schema is created when empty and otherwise only by `seek-sync db upgrade` (`backend.components`).
"""

from __future__ import annotations

from seek_sync.db.migrations import Dialect, Migration, statements
from seek_sync.store.warehouse import ADDED_COLUMNS, TABLES

COMPONENT = "warehouse"

AUDIT_TABLE = """
CREATE TABLE IF NOT EXISTS purges (
    purge_id VARCHAR PRIMARY KEY, purged_at TIMESTAMPTZ NOT NULL, kind VARCHAR NOT NULL,
    reason VARCHAR, dry_run BOOLEAN NOT NULL, hirer_ids VARCHAR NOT NULL,
    candidate_ids VARCHAR NOT NULL, counts VARCHAR NOT NULL)"""


def _baseline(dialect: Dialect) -> None:
    for table, columns in TABLES.items():
        dialect.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
    for table, added in ADDED_COLUMNS.items():
        for column in added:
            dialect.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}")
    dialect.execute(AUDIT_TABLE)


# An absolute URI (`file:///home/.../blobs/h/ab/abcd...`) keeps its last three segments: the key.
RELATIVE_BLOB_URIS = r"""
UPDATE attachment_files
SET blob_uri = regexp_replace(blob_uri, '^.*/([^/]+/[^/]+/[^/]+)$', '\1')
WHERE blob_uri LIKE '%://%'
"""

MIGRATIONS = (
    Migration(1, "the datasets of the last unversioned release", _baseline),
    Migration(2, "blob URIs as keys relative to the blob root", statements(RELATIVE_BLOB_URIS)),
)

# Every table the warehouse component owns (a server schema holding none of them is empty).
OWN_TABLES = (*TABLES, "purges")
