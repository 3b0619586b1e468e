"""Purge, export, retention and the blob check at the store level, on both backends (one test
each, parametrised by the `backend` fixture): the same rows found, deleted and audited, the same
objects deleted, whether the blobs are local files or S3 objects."""

from __future__ import annotations

import json
import threading
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import psycopg

from seek_sync.pipeline.ats_state import Creates
from seek_sync.pipeline.checks import blobs_match
from seek_sync.pipeline.owed import owed_by_hirer
from seek_sync.pipeline.redactions import DUE_SQL, SENT_SQL
from seek_sync.store.export import export
from seek_sync.store.purge import Selector, delete, find
from seek_sync.store.retention import (
    expire,
    files_due,
    profiles_due,
    unsettled_keys,
    unshared_blobs,
)
from tests.backends import Backend
from tests.services import ADMIN_URL, private_database
from tests.store.world import H1, H2, NOW, make_world


def count(world_db: object, sql: str) -> int:
    return int(world_db.query(sql)["n"][0])  # type: ignore[attr-defined]


def test_purge_by_email_across_hirers(backend: Backend) -> None:
    world = make_world(backend)
    with world.warehouse.exclusive() as db:
        found = find(db, Selector(email="Ann@EXAMPLE.com"))  # any case, across both hirers
        assert found.candidate_ids == ["c-ann"] and found.hirer_ids == sorted([H1, H2])
        assert found.profile_ids == ["p-ann-1", "p-ann-2"]
        # Ann's H1 blob is shared with Bob's file: only her H2 blob is hers alone.
        assert [sha for _, sha in found.blobs] == [world.keys["a-ann-2"].rsplit("/", 1)[1]]
        purge_id = delete(db, found, reason="erasure request", dry_run=False)
    for hirer_id, sha in found.blobs:
        assert world.blobs.delete(world.blobs.key_for(hirer_id, sha)) == len(b"ann cv 2")
    assert not world.blobs.exists(world.keys["a-ann-2"])
    assert world.blobs.exists(world.keys["a-bob-1"])  # the shared bytes stay for Bob
    db = world.warehouse
    left = db.query("SELECT profile_id FROM candidate_profiles ORDER BY 1")["profile_id"]
    assert list(left) == ["p-bob-1"]
    assert count(db, "SELECT COUNT(*) AS n FROM attachment_files WHERE hirer_id <> 'x'") == 1
    assert count(db, "SELECT COUNT(*) AS n FROM ats_candidates") == 1
    audit = db.query("SELECT * FROM purges")
    assert list(audit["purge_id"]) == [purge_id] and not bool(audit["dry_run"][0])
    assert json.loads(audit["counts"][0])["candidate_profiles"] == 2
    assert "example.com" not in " ".join(str(v) for v in audit.iloc[0]).lower()  # ids only


def test_a_dry_run_counts_and_changes_nothing(backend: Backend) -> None:
    world = make_world(backend)
    with world.warehouse.exclusive(rewrite=False) as db:
        found = find(db, Selector(hirer_id=H1))
        delete(db, found, reason=None, dry_run=True)
    assert found.counts["attachment_files"] == 2 and found.counts["hirers"] == 1
    assert count(world.warehouse, "SELECT COUNT(*) AS n FROM attachment_files") == 3


def test_export_reads_the_person_and_their_files(backend: Backend, tmp_path: Path) -> None:
    world = make_world(backend)
    out = tmp_path / "ann.zip"
    with world.warehouse.session() as db:
        counts = export(db, world.blobs, Selector(email="ann@example.com"), out)
    assert counts["profiles"] == 2 and counts["files"] == 2 and counts["ats_records"] == 2
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert archive.read("files/a-ann-2-cv.pdf") == b"ann cv 2"  # from S3 on the server
        assert json.loads(archive.read("profiles/p-ann-1.json"))["candidate"]
    assert "profiles/p-bob-1.json" not in names


def test_retention_finds_what_is_due_and_expires_files(backend: Backend) -> None:
    world = make_world(backend)
    targets = {H1: "kombo"}
    with world.warehouse.session() as db:
        files = files_due(db, NOW - timedelta(days=30), targets)
        assert list(files["attachment_id"]) == ["a-ann-1"]
        assert unshared_blobs(db, files) == set()  # Bob's file has the same bytes
        due = profiles_due(db, NOW - timedelta(days=180), targets)
        assert sorted(due["profile_id"]) == ["p-ann-1", "p-old-event"]  # not the bad date
        assert not any(due["held"])
        assert unsettled_keys(db) == {"key-bob"}
        expire(db, list(files["attachment_id"]), "retention: confirmed 30 days ago")
    expired = world.warehouse.query(
        "SELECT status, blob_uri, sha256 FROM attachment_files WHERE attachment_id = 'a-ann-1'"
    )
    assert list(expired.iloc[0]) == ["expired", None, None]


def test_the_blob_check_and_what_is_owed(backend: Backend) -> None:
    world = make_world(backend)
    world.blobs.delete(world.keys["a-ann-2"])
    with world.warehouse.session() as db:
        outcomes = blobs_match(db, world.blobs, [H1, H2])
    assert outcomes[H1].passed and not outcomes[H2].passed
    owed = owed_by_hirer(world.warehouse, [H1, H2], with_target=[H1])
    assert owed[H1].waiting == 1 and owed[H1].waiting_since is not None  # Bob's upload
    assert owed[H2].backlog == 2  # two events whose profiles were never fetched


def stored_bytes(backend: Backend, world_db: object) -> bytes:
    """The bytes the warehouse keeps of `candidate_profiles`: the DuckDB file, or the table's
    heap file on the server (after a checkpoint; readable when the tests run as root)."""
    if not backend.is_server:
        return (backend.home / "warehouse.duckdb").read_bytes()
    with world_db.connect() as db:  # type: ignore[attr-defined]
        db.execute("CHECKPOINT")
        directory = db.execute("SHOW data_directory").fetchone()[0]
        relation = db.execute("SELECT pg_relation_filepath('candidate_profiles')").fetchone()[0]
    return (Path(directory) / relation).read_bytes()


def test_a_purge_leaves_no_deleted_row_in_the_stored_bytes(backend: Backend) -> None:
    """DuckDB: the file is rewritten. PostgreSQL: VACUUM FULL rewrites each table's file."""
    world = make_world(backend)
    assert b"ann@example.com" in stored_bytes(backend, world.warehouse)
    with world.warehouse.exclusive() as db:
        delete(db, find(db, Selector(email="ann@example.com")), reason=None, dry_run=False)
    assert b"ann@example.com" not in stored_bytes(backend, world.warehouse)
    assert b"bob@example.com" in stored_bytes(backend, world.warehouse)


def test_a_purge_waits_out_an_older_transaction_in_another_database(
    server_backend: Backend,
) -> None:
    """On a shared server, a transaction older than the delete (in any database) makes VACUUM
    FULL copy the deleted row into the new file: the purge waits for it to end (PostgreSQL
    only: DuckDB rewrites its one file with no other transaction to wait for)."""
    world = make_world(server_backend)
    held = threading.Event()

    def older_transaction(database: str) -> None:
        url = ADMIN_URL.rpartition("/")[0] + f"/{database}"
        with psycopg.connect(url) as connection, connection.transaction():
            connection.execute("SELECT pg_current_xact_id()")  # holds a transaction id
            held.set()
            time.sleep(3)

    with private_database("seek_sync_other") as other:
        thread = threading.Thread(target=older_transaction, args=(other,))
        thread.start()
        assert held.wait(30)
        started = time.monotonic()
        with world.warehouse.exclusive() as db:
            delete(db, find(db, Selector(email="ann@example.com")), reason=None, dry_run=False)
        waited = time.monotonic() - started
        thread.join()
    assert b"ann@example.com" not in stored_bytes(server_backend, world.warehouse)
    assert waited > 1.5  # it waited for the other transaction (3 s from before the delete)


def test_the_queries_of_seek_deletions_and_creates_in_flight(backend: Backend) -> None:
    """The pipeline's JSON and list queries (redactions, creates in flight) on both dialects."""
    world = make_world(backend)
    world.warehouse.upsert(
        "ats_candidates",
        [{"target": "kombo", "hirer_id": H1, "seek_candidate_id": "c-bob",
          "state": "pending_create", "updated_at": NOW}],
    )  # fmt: skip
    with world.warehouse.session() as db:
        sent = db.query(SENT_SQL, [["p-ann-1", "p-bob-1"]]).itertuples(index=False)
        assert [(h, a, list(ids)) for h, a, ids in sent] == [(H1, "k-c-ann", ["k-1"])]
        due = db.query(DUE_SQL, [NOW + timedelta(hours=1), 10])["profile_id"]
        assert sorted(due) == ["p-ann-1", "p-ann-2", "p-bob-1"]
        assert Creates.load(db, {"kombo"}).in_flight == {"kombo": {"bob@example.com": {H1}}}
