"""Access and erasure through the commands, over the sandbox, on both backends: `seek-sync export`
and `seek-sync purge --email` run their Dagster jobs against the DuckDB file and local blobs, or
PostgreSQL and S3; the same rows, objects and audit rows result. The warehouse's stored bytes:
the DuckDB file no longer holds the person's email; on PostgreSQL every table's file (and its
TOAST file, where long profiles are kept compressed, out of reach of a byte search) is a new one
after the purge's VACUUM FULL (`tests/store/test_privacy.py` searches a heap file's bytes)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from seek_sync.backend import open_blobs
from seek_sync.cli import app
from seek_sync.local_stack import LocalStack, local_stack
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.store.warehouse import TABLES
from tests.backends import Backend
from tests.dagster.conftest import drive_until_settled, warehouse_of


@pytest.fixture
def stack_on(backend: Backend) -> Iterator[LocalStack]:
    config = SandboxConfig(applications=12, hirers=3, edge_cases=False)
    with local_stack(backend.home, config, extra_env=backend.env) as running:
        yield running


def stored(backend: Backend, stack: LocalStack) -> bytes | list[str]:
    """The DuckDB file's bytes, or the files of the PostgreSQL warehouse tables and their TOAST
    tables (paths under the data directory)."""
    if not backend.is_server:
        return (backend.home / "warehouse.duckdb").read_bytes()
    with warehouse_of(stack).session() as db:  # the inbox shares the schema: warehouse only
        return sorted(
            str(path)
            for (path,) in db.rows(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_tables t "
                "ON c.relname = t.tablename AND t.schemaname = current_schema() "
                "WHERE t.tablename = ANY(?) "
                "UNION ALL SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c "
                "JOIN pg_tables t ON c.relname = t.tablename "
                "AND t.schemaname = current_schema() WHERE c.reltoastrelid <> 0 "
                "AND t.tablename = ANY(?)",
                [list(TABLES), list(TABLES)],
            )
        )


def _person(stack: LocalStack) -> tuple[str, list[str], list[str]]:
    """An email held by one SEEK candidate with stored files: (email, profiles, blob keys)."""
    with warehouse_of(stack).session() as db:
        profiles = db.query("SELECT profile_id, candidate_id, raw_json FROM candidate_profiles")
        files = db.query(
            "SELECT m.profile_id, f.blob_uri FROM attachment_manifest m "
            "JOIN attachment_files f USING (attachment_id) WHERE f.status = 'stored'"
        )
    owners: dict[str, set[str]] = {}
    emails = {}
    for profile_id, candidate_id, raw in profiles.itertuples(index=False):
        email = json.loads(raw)["candidate"]["person"]["communication"]["email"][0]["address"]
        owners.setdefault(email, set()).add(candidate_id)
        emails[profile_id] = email
    for email, candidates in sorted(owners.items()):
        mine = [p for p, e in emails.items() if e == email]
        keys = list(files[files["profile_id"].isin(mine)]["blob_uri"])
        if len(candidates) == 1 and keys:
            return email, mine, keys
    raise AssertionError("no candidate with stored files")


def test_export_then_purge_by_email(backend: Backend, stack_on: LocalStack, tmp_path: Path) -> None:
    stack = stack_on
    with dg.DagsterInstance.get() as instance:
        drive_until_settled(stack, instance)
    email, profiles, keys = _person(stack)
    blobs = open_blobs(stack.settings)
    assert blobs.url.startswith("s3://" if backend.is_server else "file://")
    assert all(blobs.exists(k) for k in keys)
    before = stored(backend, stack)
    if not backend.is_server:
        assert email.encode() in before  # positive control of the byte search

    out = tmp_path / "export.zip"
    exported = CliRunner().invoke(app, ["export", "--email", email, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    with zipfile.ZipFile(out) as archive:
        files = [n for n in archive.namelist() if n.startswith("files/")]
        assert len(files) == len(keys) and all(archive.read(n) for n in files)

    purged = CliRunner().invoke(app, ["purge", "--email", email, "--reason", "erasure request"])
    assert purged.exit_code == 0, purged.output
    assert not any(blobs.exists(k) for k in keys)  # objects deleted (unshared ones: all here)
    with warehouse_of(stack).session() as db:
        left = db.scalar(
            "SELECT COUNT(*) FROM candidate_profiles WHERE profile_id IN "
            "(SELECT UNNEST(?::VARCHAR[]))",
            [profiles],
        )
        audit = db.query("SELECT kind, reason, dry_run FROM purges")
    assert int(left) == 0
    assert [tuple(r) for r in audit.itertuples(index=False)] == [
        ("email", "erasure request", False)
    ]
    after = stored(backend, stack)
    if backend.is_server:
        assert set(before) and not set(before) & set(after)  # every table file rewritten
    else:
        assert email.encode() not in after
