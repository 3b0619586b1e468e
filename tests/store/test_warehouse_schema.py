"""The warehouse schema is versioned: a DuckDB file of the previous release upgrades in place
(absolute blob URIs become keys), and a server schema of an older release is refused in one line
until `seek-sync db upgrade` has run."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import duckdb
import pytest

from seek_sync.backend import open_warehouse
from seek_sync.db.migrations import SchemaError
from seek_sync.settings import WarehouseFields, load
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import TABLES
from seek_sync.store.warehouse_postgres import connect
from tests.services import database_url, private_database

FIXTURE = Path(__file__).parent.parent / "fixtures" / "home-ea5e8aa.tgz"
WAREHOUSE = "seek-sync-upgrade-home/warehouse.duckdb"


def old_warehouse(tmp_path: Path) -> Path:
    """The warehouse file made by release ea5e8aa (before schema versions and relative keys)."""
    with tarfile.open(FIXTURE) as archive:
        archive.extract(WAREHOUSE, tmp_path, filter="data")
    path = tmp_path / "warehouse.duckdb"
    shutil.move(tmp_path / WAREHOUSE, path)
    return path


def test_a_duckdb_warehouse_of_the_previous_release_upgrades_in_place(tmp_path: Path) -> None:
    path = old_warehouse(tmp_path)
    with duckdb.connect(str(path)) as db:
        tables = {r[0] for r in db.execute("SHOW TABLES").fetchall()}
        before = db.execute(
            "SELECT attachment_id, hirer_id, sha256, blob_uri FROM attachment_files "
            "WHERE status = 'stored' ORDER BY 1"
        ).fetchall()
    assert "schema_versions" not in tables and before
    assert all(str(uri).startswith("file:///") for *_, uri in before)

    settings = load(WarehouseFields, home=tmp_path, warehouse_path=path)
    assert open_warehouse(settings).versions() == (0, 2)
    warehouse = open_warehouse(settings)
    after = warehouse.query(
        "SELECT attachment_id, hirer_id, sha256, blob_uri FROM attachment_files "
        "WHERE status = 'stored' ORDER BY 1"
    )
    blobs = BlobStore((tmp_path / "elsewhere").as_uri())
    assert len(after) == len(before)
    for (attachment_id, hirer_id, sha256, _), row in zip(before, after.itertuples(), strict=True):
        assert (row.attachment_id, row.sha256) == (attachment_id, sha256)
        assert row.blob_uri == blobs.key_for(hirer_id, sha256)  # relative: no home in it
    assert warehouse.versions() == (2, 2)
    assert open_warehouse(settings).upgrade() == []  # nothing left to apply


def test_an_old_server_schema_is_refused_until_upgraded(tmp_path: Path) -> None:
    with private_database() as name:
        url = database_url(name, "psycopg")
        with connect(url, "seek_sync") as db:  # what a release before versioning would have made
            db.execute("CREATE SCHEMA seek_sync")
            db.execute(f"CREATE TABLE attachment_files ({TABLES['attachment_files']})")
            db.execute(
                "INSERT INTO attachment_files (attachment_id, hirer_id, sha256, blob_uri, status)"
                " VALUES ('a1', 'h:1', %s, %s, 'stored')",
                ["ab" * 32, f"s3://old-bucket/blobs/h_1/ab/{'ab' * 32}"],
            )
        settings = load(WarehouseFields, home=tmp_path, database_url=url)
        warehouse = open_warehouse(settings)
        with pytest.raises(SchemaError) as refused:
            warehouse.query("SELECT 1")
        message = str(refused.value)
        assert "\n" not in message and "seek-sync db upgrade" in message
        assert open_warehouse(settings).versions() == (0, 2)

        assert open_warehouse(settings).upgrade() == [1, 2]
        rows = open_warehouse(settings).query("SELECT blob_uri FROM attachment_files")
        assert list(rows["blob_uri"]) == [f"h_1/ab/{'ab' * 32}"]
        assert open_warehouse(settings).versions() == (2, 2)


def test_an_empty_server_schema_is_created_on_first_use(tmp_path: Path) -> None:
    with private_database() as name:
        settings = load(WarehouseFields, home=tmp_path, database_url=database_url(name, "psycopg"))
        assert open_warehouse(settings).query("SELECT COUNT(*) AS n FROM hirers")["n"][0] == 0
        assert open_warehouse(settings).versions() == (2, 2)
