"""Purges over the sandbox: what is erased is gone from the bytes of every file the project wrote,
found before by the same raw search (positive control), and never comes back through ticks,
SEEK's replays or a backfill."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from seek_sync.cli import app
from seek_sync.local_stack import LocalStack
from seek_sync.runstate.journal import Journal
from seek_sync.store.warehouse import records_of
from tests.dagster.conftest import drive_until_settled, inbox_of, warehouse_of
from tests.dagster.leak_search import file_haystacks


@dataclass
class Person:
    hirer_id: str
    candidate_id: str
    profile_ids: list[str]
    attachment_ids: list[str]
    secrets: dict[str, bytes]  # what must be gone: email, phone, a sentence of the résumé


def _pick(stack: LocalStack) -> Person:
    """A candidate whose résumé is a PDF, RTF or TXT (their text is raw in the file), and whose
    email no other SEEK candidate id carries (one person may be two candidates at SEEK)."""
    with warehouse_of(stack).connect(read_only=True) as db:
        rows = db.execute(
            "SELECT p.hirer_id, p.candidate_id, p.raw_json, f.sha256 FROM candidate_profiles p "
            "JOIN attachment_manifest m USING (profile_id) JOIN attachment_files f "
            "USING (attachment_id) WHERE m.role = 'Resume' AND f.status = 'stored' AND "
            "f.sniffed_type IN ('application/pdf', 'application/rtf', 'text/plain') "
            "ORDER BY p.profile_id"
        ).fetchall()
        owners: dict[str, set[str]] = {}
        for r in db.execute("SELECT candidate_id, raw_json FROM candidate_profiles").fetchall():
            owners.setdefault(_email(r[1]), set()).add(r[0])
        hirer_id, candidate_id, raw, sha = next(r for r in rows if len(owners[_email(r[2])]) == 1)
        profiles = [
            r[0]
            for r in db.execute(
                "SELECT profile_id FROM candidate_profiles WHERE candidate_id = ?", [candidate_id]
            ).fetchall()
        ]
        attachments = [
            r[0]
            for r in db.execute(
                "SELECT attachment_id FROM attachment_manifest WHERE profile_id IN "
                "(SELECT UNNEST(?::VARCHAR[]))",
                [profiles],
            ).fetchall()
        ]
    person = json.loads(raw)["candidate"]["person"]["communication"]
    resume = next(stack.home.rglob(sha)).read_bytes()
    start = resume.index(b"Skills: ")
    sentence = resume[start : start + 40]
    return Person(
        hirer_id,
        candidate_id,
        profiles,
        attachments,
        {
            "email": person["email"][0]["address"].encode(),
            "phone": person["phone"][0]["formattedNumber"].encode(),
            "sentence": sentence,
        },
    )


def _email(raw: str) -> str:
    return str(json.loads(raw)["candidate"]["person"]["communication"]["email"][0]["address"])


def _search(root: Path, needles: dict[str, bytes]) -> dict[str, set[str]]:
    """Raw bytes of every file under `root`: which needles each file holds."""
    found: dict[str, set[str]] = {}
    for where, data in file_haystacks(root):
        hits = {name for name, needle in needles.items() if needle in data}
        if hits:
            found[where.removeprefix("file ")] = hits
    return found


def _journal_a_dead_runs_row(stack: LocalStack, person: Person) -> None:
    """A run that died before merging leaves whole warehouse rows in the inbox's journal."""
    with warehouse_of(stack).connect(read_only=True) as db:
        frame = db.execute(
            "SELECT * FROM candidate_profiles WHERE profile_id = ?", [person.profile_ids[0]]
        ).df()
    row = records_of(frame)[0]
    Journal(inbox_of(stack)).record_tables({"candidate_profiles": [row]})


@pytest.mark.parametrize("by", ["email", "candidate"])
def test_a_purged_person_is_gone_from_every_byte_and_never_comes_back(
    stack: LocalStack, instance: dg.DagsterInstance, by: str
) -> None:
    driver = drive_until_settled(stack, instance)
    person = _pick(stack)
    _journal_a_dead_runs_row(stack, person)
    before = _search(stack.home, person.secrets)
    # Positive control: the same search sees each string where it is kept today.
    places = {name for hits in before.values() for name in hits}
    assert places == set(person.secrets), before
    assert any(p.startswith("blobs") for p in before), before
    assert any(p.startswith("inbox.sqlite3") for p in before), before  # the journal row
    # DuckDB keeps these long JSON strings uncompressed: the raw search sees them there too.
    assert any(p.startswith("warehouse.duckdb") for p in before), before
    assert any(stack.dagster_home.rglob("*.db"))  # the Dagster home is searched as well

    args = (
        ["--email", person.secrets["email"].decode()]
        if by == "email"
        else ["--candidate", person.candidate_id]
    )
    result = CliRunner().invoke(app, ["purge", *args, "--reason", "erasure request"])
    assert result.exit_code == 0, result.output
    assert person.secrets["email"].decode() not in result.output

    after = _search(stack.home, person.secrets)
    assert after == {}, after  # warehouse, inbox (+WAL), blobs, temp, Dagster home, logs
    with warehouse_of(stack).connect(read_only=True) as db:
        left = db.execute(
            "SELECT COUNT(*) FROM candidate_profiles WHERE candidate_id = ?", [person.candidate_id]
        ).fetchone()[0]
        audit = db.execute("SELECT kind, reason, candidate_ids, counts FROM purges").fetchall()
    assert left == 0
    assert [(a[0], a[1]) for a in audit] == [(by, "erasure request")]
    assert person.candidate_id in audit[0][2]
    assert person.secrets["email"].decode() not in repr(audit)

    # Nothing comes back: SEEK replays the person's events, ticks run, a backfill runs.
    world = stack.sandbox.state.world
    reads = sum(world.profile_reads[p] for p in person.profile_ids)
    assert reads >= len(person.profile_ids)  # positive control: the counter sees our fetches
    downloads = stack.sandbox.state.log.counts().get("attachment", 0)
    uploads = stack.files_at_fakes()
    events = [e.event_id for e in inbox_of(stack).events_after(0)]  # the others'
    stack.sandbox.state.world.replay_events(
        [e.id for e in stack.sandbox.state.world.events if e.profile_id in person.profile_ids]
    )
    drive_until_settled(stack, instance)
    job = driver.defs.resolve_job_def("hirer_sync")
    assert job.execute_in_process(
        instance=instance, partition_key=person.hirer_id, raise_on_error=False
    ).success
    assert sum(world.profile_reads[p] for p in person.profile_ids) == reads  # no profile fetch
    assert stack.sandbox.state.log.counts().get("attachment", 0) == downloads  # no download
    assert stack.files_at_fakes() == uploads
    assert [e.event_id for e in inbox_of(stack).events_after(0)] == events
    assert _search(stack.home, person.secrets) == {}


def test_a_hirer_purge_takes_everything_of_the_hirer_and_a_dry_run_nothing(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    drive_until_settled(stack, instance)
    person = _pick(stack)
    hirer = person.hirer_id
    instance.add_dynamic_partitions("hirer", [hirer])
    _journal_a_dead_runs_row(stack, person)
    found = {name for hits in _search(stack.home, person.secrets).values() for name in hits}
    assert found == set(person.secrets)  # positive control

    def rows() -> dict[str, int]:
        with warehouse_of(stack).connect(read_only=True) as db:
            return {
                table: db.execute(
                    f"SELECT COUNT(*) FROM {table} WHERE hirer_id = ?", [hirer]
                ).fetchone()[0]
                for table in ("application_events", "candidate_profiles", "attachment_files")
            }

    held = rows()
    assert all(held.values()), held
    blobs = f"*{hirer.rsplit(':', 1)[1]}*/*"
    assert list((stack.home / "blobs").glob(blobs))
    dry = CliRunner().invoke(app, ["purge", "--hirer", hirer, "--dry-run"])
    assert dry.exit_code == 0 and "would remove" in dry.output, dry.output
    assert rows() == held  # counted, nothing removed
    done = CliRunner().invoke(app, ["purge", "--hirer", hirer, "--reason", "relationship ended"])
    assert done.exit_code == 0, done.output
    assert rows() == dict.fromkeys(held, 0)
    assert _search(stack.home, person.secrets) == {}  # one of its applicants, gone from every byte
    assert not list((stack.home / "blobs").glob(blobs))
    inbox = inbox_of(stack)
    assert inbox.read("SELECT COUNT(*) AS n FROM events WHERE hirer_id = ?", (hirer,))[0]["n"] == 0
    assert not instance.has_dynamic_partition("hirer", hirer)
    with warehouse_of(stack).connect(read_only=True) as db:
        audit = db.execute(
            "SELECT kind, dry_run, hirer_ids FROM purges ORDER BY purged_at"
        ).fetchall()
    assert [(kind, dry_run) for kind, dry_run, _ in audit] == [("hirer", True), ("hirer", False)]
    assert all(hirer in ids for _, _, ids in audit)


def test_an_access_request_exports_everything_held_about_the_person(
    stack: LocalStack, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    drive_until_settled(stack, instance)
    person = _pick(stack)
    out = tmp_path / "export.zip"
    email = person.secrets["email"].decode()
    result = CliRunner().invoke(app, ["export", "--email", email, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        profiles = [n for n in names if n.startswith("profiles/") and n.endswith("record.json")]
        files = [n for n in names if n.startswith("files/")]
        assert len(profiles) == len(person.profile_ids)
        assert len(files) == len(person.attachment_ids)  # every stored file, its bytes
        resume = b"".join(archive.read(n) for n in files)
        assert person.secrets["sentence"] in resume
        assert email in archive.read(f"profiles/{person.profile_ids[0]}.json").decode()
        assert {"ats.json", "events.json", "audit.json", "manifest.json"} <= set(names)
    runs = instance.get_runs()
    assert all(email not in repr(run.run_config) for run in runs)  # never in run storage
