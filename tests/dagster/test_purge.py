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
from seek_sync.runstate.hirer_keys import HirerKeys
from seek_sync.runstate.journal import Journal
from seek_sync.store.warehouse import IN_LIST, records_of
from tests.dagster.conftest import (
    BOTH_BACKENDS,
    blobs_of,
    drive_until_settled,
    inbox_of,
    is_server,
    rows,
    warehouse_of,
)
from tests.dagster.state_search import state_haystacks

pytestmark = BOTH_BACKENDS
# Where a person's data is kept before a purge (the positive control), by `is_server`.
KEPT_IN = {
    False: ("blobs", "inbox.sqlite3", "warehouse.duckdb"),
    True: ("blobs", "table seek_sync.journal", "table seek_sync.candidate_profiles"),
}
DAGSTER_STORAGE = {False: "dagster/history/runs.db", True: "table seek_sync_dagster.event_logs"}


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
    found = rows(
        stack,
        "SELECT p.hirer_id, p.candidate_id, p.raw_json, f.sha256 FROM candidate_profiles p "
        "JOIN attachment_manifest m USING (profile_id) JOIN attachment_files f "
        "USING (attachment_id) WHERE m.role = 'Resume' AND f.status = 'stored' AND "
        "f.sniffed_type IN ('application/pdf', 'application/rtf', 'text/plain') "
        "ORDER BY p.profile_id",
    )
    owners: dict[str, set[str]] = {}
    for r in rows(stack, "SELECT candidate_id, raw_json FROM candidate_profiles"):
        owners.setdefault(_email(r[1]), set()).add(r[0])
    hirer_id, candidate_id, raw, sha = next(r for r in found if len(owners[_email(r[2])]) == 1)
    query = "SELECT profile_id FROM candidate_profiles WHERE candidate_id = ?"
    profiles = [r[0] for r in rows(stack, query, [candidate_id])]
    attachments = [
        r[0]
        for r in rows(
            stack,
            f"SELECT attachment_id FROM attachment_manifest WHERE profile_id IN {IN_LIST}",
            [profiles],
        )
    ]
    person = json.loads(raw)["candidate"]["person"]["communication"]
    blobs = blobs_of(stack)
    resume = blobs.read_bytes(blobs.key_for(hirer_id, sha))
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


def _search(stack: LocalStack, needles: dict[str, bytes]) -> dict[str, set[str]]:
    """Raw bytes of every place the stack keeps anything: which needles each place holds."""
    found: dict[str, set[str]] = {}
    for where, data in state_haystacks(stack):
        hits = {name for name, needle in needles.items() if needle in data}
        if hits:
            found[where.removeprefix("file ")] = hits
    return found


def _journal_a_dead_runs_row(stack: LocalStack, person: Person) -> None:
    """A run that died before merging leaves whole warehouse rows in the inbox's journal."""
    frame = warehouse_of(stack).query(
        "SELECT * FROM candidate_profiles WHERE profile_id = ?", [person.profile_ids[0]]
    )
    row = records_of(frame)[0]
    Journal(inbox_of(stack)).record_tables({"candidate_profiles": [row]})


@pytest.mark.parametrize("by", ["email", "candidate"])
def test_a_purged_person_is_gone_from_every_byte_and_never_comes_back(
    stack: LocalStack, instance: dg.DagsterInstance, by: str
) -> None:
    driver = drive_until_settled(stack, instance)
    person = _pick(stack)
    _journal_a_dead_runs_row(stack, person)
    before = _search(stack, person.secrets)
    # Positive control: the same search sees each string where it is kept today: the blobs, the
    # journal row (in the inbox), the warehouse (DuckDB keeps these long JSON strings
    # uncompressed, so the raw search sees them in its file too).
    places = {name for hits in before.values() for name in hits}
    assert places == set(person.secrets), before
    for kept in KEPT_IN[is_server(stack)]:
        assert any(p.startswith(kept) for p in before), (kept, before)
    searched = [where for where, _ in state_haystacks(stack)]
    assert any(DAGSTER_STORAGE[is_server(stack)] in where for where in searched)  # Dagster's too

    args = (
        ["--email", person.secrets["email"].decode()]
        if by == "email"
        else ["--candidate", person.candidate_id]
    )
    result = CliRunner().invoke(app, ["purge", *args, "--reason", "erasure request"])
    assert result.exit_code == 0, result.output
    assert person.secrets["email"].decode() not in result.output

    after = _search(stack, person.secrets)
    assert after == {}, after  # warehouse, inbox (+WAL), blobs, temp, Dagster's storage, logs
    query = "SELECT COUNT(*) FROM candidate_profiles WHERE candidate_id = ?"
    ((left,),) = rows(stack, query, [person.candidate_id])
    audit = rows(stack, "SELECT kind, reason, candidate_ids, counts FROM purges")
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
    key = HirerKeys(inbox_of(stack)).all()[person.hirer_id]
    backfill = job.execute_in_process(instance=instance, partition_key=key, raise_on_error=False)
    assert backfill.success
    assert sum(world.profile_reads[p] for p in person.profile_ids) == reads  # no profile fetch
    assert stack.sandbox.state.log.counts().get("attachment", 0) == downloads  # no download
    assert stack.files_at_fakes() == uploads
    assert [e.event_id for e in inbox_of(stack).events_after(0)] == events
    assert _search(stack, person.secrets) == {}


def test_a_hirer_purge_takes_everything_of_the_hirer_and_a_dry_run_nothing(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    drive_until_settled(stack, instance)
    person = _pick(stack)
    hirer = person.hirer_id
    key = HirerKeys(inbox_of(stack)).all()[hirer]
    assert instance.has_dynamic_partition("hirer", key)  # positive control
    _journal_a_dead_runs_row(stack, person)
    found = {name for hits in _search(stack, person.secrets).values() for name in hits}
    assert found == set(person.secrets)  # positive control

    def counts() -> dict[str, int]:
        return {
            table: rows(stack, f"SELECT COUNT(*) FROM {table} WHERE hirer_id = ?", [hirer])[0][0]
            for table in ("application_events", "candidate_profiles", "attachment_files")
        }

    held = counts()
    assert all(held.values()), held
    blobs = blobs_of(stack)
    assert blobs.holds(hirer)
    dry = CliRunner().invoke(app, ["purge", "--hirer", hirer, "--dry-run"])
    assert dry.exit_code == 0 and "would remove" in dry.output, dry.output
    assert counts() == held  # counted, nothing removed
    done = CliRunner().invoke(app, ["purge", "--hirer", hirer, "--reason", "relationship ended"])
    assert done.exit_code == 0, done.output
    assert counts() == dict.fromkeys(held, 0)
    assert _search(stack, person.secrets) == {}  # one of its applicants, gone from every byte
    assert not blobs.holds(hirer)
    inbox = inbox_of(stack)
    assert inbox.read("SELECT COUNT(*) AS n FROM events WHERE hirer_id = ?", (hirer,))[0]["n"] == 0
    assert not instance.has_dynamic_partition("hirer", key)
    audit = rows(stack, "SELECT kind, dry_run, hirer_ids FROM purges ORDER BY purged_at")
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
