"""A restore of a backup older than a purge brings the erased person back; the tombstones saved
since (`seek-sync tombstones export`) and `seek-sync tombstones reapply --from` erase them again,
from every byte of every file (the raw search of `test_purge.py`), and touch no one else. A second
reapply purges nothing. The embedded home is backed up as docs/operating.md says: the inbox with
SQLite's backup API, the warehouse file and the blobs copied while nothing writes them."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import dagster as dg
from typer.testing import CliRunner

from seek_sync.cli import app
from seek_sync.local_stack import LocalStack
from tests.dagster.conftest import drive_until_settled, inbox_of, rows
from tests.dagster.test_purge import _pick, _search


def _copy_home(stack: LocalStack, source: Path, target: Path) -> None:
    """The inbox (SQLite's online backup: consistent while open), the warehouse file and the
    blobs, from `source` to `target` (each a home's layout)."""
    target.mkdir(parents=True, exist_ok=True)
    with (
        sqlite3.connect(source / "inbox.sqlite3") as src,
        sqlite3.connect(target / "inbox.sqlite3") as dst,
    ):
        src.backup(dst)
    shutil.copy2(source / "warehouse.duckdb", target / "warehouse.duckdb")
    shutil.rmtree(target / "blobs", ignore_errors=True)
    shutil.copytree(source / "blobs", target / "blobs")


def _audited(stack: LocalStack) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in rows(stack, "SELECT kind, reason FROM purges ORDER BY purged_at")]


def test_a_restored_backup_is_erased_again_by_the_saved_tombstones(
    stack: LocalStack, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    drive_until_settled(stack, instance)
    person = _pick(stack)
    backup, saved = tmp_path / "backup", tmp_path / "tombstones.jsonl"
    _copy_home(stack, stack.home, backup)  # outside the home: the search never sees it

    runner = CliRunner()
    purged = runner.invoke(app, ["purge", "--candidate", person.candidate_id, "--reason", "req"])
    assert purged.exit_code == 0, purged.output
    assert _search(stack, person.secrets) == {}
    profiles_left = rows(stack, "SELECT COUNT(*) FROM candidate_profiles")[0][0]
    exported = runner.invoke(app, ["tombstones", "export", "--out", str(saved)])
    assert exported.exit_code == 0, exported.output
    kept = [json.loads(line) for line in saved.read_text().splitlines()]
    assert {(t["kind"], t["id"]) for t in kept} >= {("candidate", person.candidate_id)}
    assert not any(s in saved.read_bytes() for s in person.secrets.values())  # ids only
    assert saved.stat().st_mode & 0o777 == 0o600

    _copy_home(stack, backup, stack.home)  # the restore: the person is back, the tombstones gone
    found = {name for hits in _search(stack, person.secrets).values() for name in hits}
    assert found == set(person.secrets)  # positive control
    assert inbox_of(stack).read("SELECT COUNT(*) AS n FROM tombstones")[0]["n"] == 0
    assert rows(stack, "SELECT COUNT(*) FROM purges")[0][0] == 0

    again = runner.invoke(app, ["tombstones", "reapply", "--from", str(saved)])
    assert again.exit_code == 0, again.output
    assert "1 candidate(s) whole" in again.output, again.output
    assert _search(stack, person.secrets) == {}  # warehouse, inbox (+WAL), blobs, Dagster's
    assert rows(stack, "SELECT COUNT(*) FROM candidate_profiles")[0][0] == profiles_left
    query = "SELECT COUNT(*) AS n FROM events WHERE candidate_id = ?"
    assert inbox_of(stack).read(query, (person.candidate_id,))[0]["n"] == 0
    assert _audited(stack) == [("candidate", "tombstones re-applied after a restore")]

    twice = runner.invoke(app, ["tombstones", "reapply"])  # idempotent: nothing left to purge
    assert twice.exit_code == 0, twice.output
    assert "0 purge(s) audited" in twice.output, twice.output
    assert len(_audited(stack)) == 1
    assert rows(stack, "SELECT COUNT(*) FROM candidate_profiles")[0][0] == profiles_left
