"""Secrets and candidate personal data do not leak out of a whole demo run.

The demo flow (drive until idle, five new applications as signed webhooks, drive again) runs
against a sandbox whose every credential is a recognisable `LEAKCANARY-...` value, with every
Python logger at DEBUG and Dagster's console logger at DEBUG. Afterwards the captured logs,
stdout/stderr, every Dagster event, run config, tag and cursor, every warehouse cell, every blob and
every other file under the home (inbox, Dagster's SQLite storage) are searched for the secrets in
several encodings, and the logs and Dagster's records for the candidates' emails, names and phones.
The demo's hirers on demand are in it: the proxy signing key and every proxy URL's signature are
searched for too. A planted canary shows each search path does find what it looks for.

It runs on both backends. Everywhere, the temp dir is searched too, and a slice of every stored
file's content must appear nowhere outside the blob store. On the server backend (PostgreSQL and
S3) the machine's disk (home, temp dir, Dagster home) holds no candidate's personal data at all.
"""

import base64
import logging
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from seek_sync.backend import open_blobs, open_inbox, open_warehouse
from seek_sync.demo import DEMO_KINDS, DriveReport, drive_with_webhooks
from seek_sync.driver import Driver
from seek_sync.local_stack import local_stack, patched_environ
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.kombo_data import KomboConfig
from seek_sync.sandbox.onderwijsregio_schema import OnderwijsregioConfig
from seek_sync.settings import Settings
from tests.backends import Backend
from tests.dagster.leak_capture import every_logger_at_debug, record_derived_credentials
from tests.dagster.leak_search import (
    Haystack,
    dagster_haystacks,
    file_contents,
    file_haystacks,
    find,
    forms,
    log_haystacks,
    needles,
    personal_values,
    warehouse_haystacks,
)

SECRETS = {
    "client_id": "LEAKCANARY-client-id-3b9e51c07d",
    "client_secret": "LEAKCANARY-client-secret-7f3a9c2e41d84b6f",
    "webhook_secret": "LEAKCANARY-webhook-secret-5d1c8e0a2b",
    "onderwijsregio_api_key": "LEAKCANARY-or-api-key-9a4f1e7c3d62",
    "onderwijsregio_callback_secret": "LEAKCANARY-or-callback-secret-2e8b6d0f4a",
    "kombo_api_key": "LEAKCANARY-kombo-api-key-6c0d3a9f8e15",
    "blob_signing_secret": "LEAKCANARY-blob-signing-secret-8d2f7b4e1c9a0635",
    "proxy_signing_secret": "LEAKCANARY-proxy-signing-secret-1f6b3e9a7c20d458",
}
PLANTED = "LEAKCANARY-planted-self-check-4e7a0c9d"


def leak_config() -> SandboxConfig:
    return SandboxConfig(
        hirers=6,  # as the demo: stored and on-demand hirers of each kind
        client_id=SECRETS["client_id"],
        client_secret=SECRETS["client_secret"],
        webhook_secret=SECRETS["webhook_secret"],
        onderwijsregio=OnderwijsregioConfig(
            api_key=SECRETS["onderwijsregio_api_key"],
            callback_secret=SECRETS["onderwijsregio_callback_secret"],
        ),
        kombo=KomboConfig(api_key=SECRETS["kombo_api_key"]),
    )


@dataclass
class Finished:
    """What a finished demo run left behind, ready to search."""

    home: Path
    dagster: list[Haystack]
    people: dict[str, str]  # label -> email, full name or phone
    drive: DriveReport
    stored: dict[str, int]
    webhook_events: int
    callbacks: int
    settings: Settings
    environment: dict[str, str]  # the stack's, to reopen its Dagster instance


def run_demo_flow(home: Path, backend_env: dict[str, str]) -> Finished:
    """What `run_demo` does, with DEBUG run logs; the Dagster records read before closing."""
    env = {
        "SEEK_SYNC_BLOB_SIGNING_SECRET": SECRETS["blob_signing_secret"],
        "SEEK_SYNC_PROXY_SIGNING_SECRET": SECRETS["proxy_signing_secret"],
        # Files of 20-600 kB: some go by URL (a signed blob URL, or the proxy's), some inline.
        "SEEK_SYNC_ONDERWIJSREGIO_DATA_LIMIT_BYTES": "100000",
        "SEEK_SYNC_KOMBO_DATA_LIMIT_BYTES": "100000",
    } | backend_env
    drive = DriveReport()
    config = leak_config()
    with local_stack(home, config, kinds=DEMO_KINDS, extra_env=env, on_demand=True) as stack:
        before = stack.files_at_fakes()
        with dg.DagsterInstance.get() as instance:
            driver = Driver(instance, log_level="DEBUG")
            drive_with_webhooks(driver, stack, drive)
            dagster = dagster_haystacks(instance)
        stored = {k: v - before[k] for k, v in stack.files_at_fakes().items()}
        webhook_events, callbacks = _inbox_counts(stack.settings)
        people = personal_values(stack.sandbox.state.world, phones=True)
        settings, environment = stack.settings, stack.environment
    return Finished(
        home, dagster, people, drive, stored, webhook_events, callbacks, settings, environment
    )


def _inbox_counts(settings: Settings) -> tuple[int, int]:
    """Events that came in by webhook, and ATS callbacks, in the inbox."""
    inbox = open_inbox(settings)
    [(webhooks,)] = inbox.read("SELECT COUNT(*) FROM events WHERE source = 'webhook'")
    [(callbacks,)] = inbox.read("SELECT COUNT(*) FROM callbacks")
    return int(webhooks), int(callbacks)


def assert_none(hits: list[str], what: str) -> None:
    """No hit; else one line per hit (where, whose value, which encoding)."""
    assert not hits, f"{len(hits)} x {what}:\n" + "\n".join(hits[:50])


def test_a_whole_demo_run_leaks_no_secret_and_no_candidate_data(
    backend: Backend,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    temp = tmp_path / "tmp"  # the temp dir of this process and of the processes it starts
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    derived = record_derived_credentials(monkeypatch)
    caplog.set_level(logging.DEBUG)
    with every_logger_at_debug(caplog.handler):
        finished = run_demo_flow(backend.home, backend.env)
    out, err = capfd.readouterr()
    logs = log_haystacks(caplog.records, out, err)

    # The run really used every credential: tokens, webhooks, callbacks, uploads to both ATSs.
    assert finished.drive.failed == [] and finished.drive.runs > 0
    assert any(k.startswith("partner token") for k in derived), "no partner token issued"
    assert any(k.startswith("blob URL signature") for k in derived), "no signed blob URL"
    assert any(k.startswith("proxy URL signature") for k in derived), "no proxy URL"
    assert finished.webhook_events > 0 and finished.callbacks > 0
    assert finished.stored["onderwijsregio"] > 0 and finished.stored["kombo"] > 0
    assert len(finished.people) > 20
    assert len(caplog.records) > 100 and "DEBUG" in err  # DEBUG capture really on
    events = b"\n".join(data for where, data in finished.dagster)
    assert b"ASSET_MATERIALIZATION" in events and b"ASSET_CHECK_EVALUATION" in events

    secrets = needles(SECRETS) + needles(derived, encodings=False)
    pii = needles(finished.people, encodings=False)
    home = finished.home
    store = open_warehouse(finished.settings)
    warehouse = warehouse_haystacks(store)
    contents = file_contents(store, open_blobs(finished.settings))
    assert len(contents) > 20, "too few stored files to search for"
    everywhere = [*logs, *finished.dagster, *warehouse]
    assert_none(find(everywhere, secrets), "secret in logs, Dagster or the warehouse")
    # Every file: blobs, inbox, warehouse, Dagster's storage, whatever went to the temp dir.
    disk = [*file_haystacks(home), *file_haystacks(temp)]
    assert_none(find(disk, secrets), "secret in a file under the home or the temp dir")
    dagster_files = [*file_haystacks(home / "dagster"), *file_haystacks(temp)]
    seen = [*logs, *finished.dagster, *dagster_files]
    assert_none(find(seen, pii + contents), "candidate data in logs, Dagster or temp files")
    beside_blobs = [*file_haystacks(home, skip=("blobs",)), *warehouse]
    assert_none(find(beside_blobs, contents), "file content outside the blob store")
    if backend.is_server:  # the machine's own disk holds no candidate's personal data at all
        assert_none(find(disk, pii), "candidate data on the disk of a server-backend run")

    # PII and content are expected where they belong: the needles match real data.
    assert find(warehouse, pii) != []
    if not backend.is_server:
        assert find(file_haystacks(home / "blobs"), contents[:3]) != []

    # Self-check: a canary planted in each place is found by the same search.
    planted = plant_canaries(finished, temp, caplog, capfd)
    found = {hit.split(":")[0] for hit in find(planted, needles({"planted": PLANTED}))}
    expected = [
        "python logging",
        "stdout",
        "stderr",  # Dagster's console logger
        "dagster event log of run",  # the op's debug line and its output metadata
        "dagster run config and tags",
        "warehouse table leak_canary",
        "file canary/leak-canary.txt",  # in the temp dir
    ]
    if not backend.is_server:
        expected += [
            "file blobs/leak-canary.txt",
            "file inbox.sqlite3",  # the database or its write-ahead log
            "file dagster/storage/",  # the step's compute log
        ]
    for where in expected:
        assert any(w.startswith(where) for w in found), f"no canary found in {where}: {found}"


def plant_canaries(
    finished: Finished,
    temp: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> list[Haystack]:
    """Put the planted canary (in some encoding) where the leak search looks, and collect again."""
    home = finished.home
    caplog.clear()
    logging.getLogger("seek_sync.leak_canary").debug("token %s", PLANTED)
    encoded = base64.b64encode(b"x" + PLANTED.encode())  # found at byte offset 1
    with (
        patched_environ(finished.environment),
        dg.DagsterInstance.from_config(str(home / "dagster")) as instance,
    ):
        canary_job(encoded.decode()).execute_in_process(
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "DEBUG"}}}},
            tags={"canary": PLANTED},
        )
        dagster = dagster_haystacks(instance)
    os.write(1, b"planted on stdout: " + encoded)
    out, err = capfd.readouterr()
    store = open_warehouse(finished.settings)
    with store.session() as session:
        session.execute("CREATE TABLE leak_canary (n INTEGER, v VARCHAR)")
        session.execute("INSERT INTO leak_canary VALUES (1, ?)", [f"url {PLANTED}"])
    (temp / "canary").mkdir()
    (temp / "canary" / "leak-canary.txt").write_bytes(b"%%" + encoded)
    if finished.settings.database_url is None:
        (home / "blobs" / "leak-canary.txt").write_bytes(b"%%" + encoded)
        with sqlite3.connect(home / "inbox.sqlite3") as db:
            db.execute("CREATE TABLE leak_canary (v TEXT)")
            db.execute("INSERT INTO leak_canary VALUES (?)", (PLANTED,))
    return [
        *log_haystacks(caplog.records, out, err),
        *dagster,
        *warehouse_haystacks(store),
        *file_haystacks(home),
        *file_haystacks(temp),
    ]


def canary_job(payload: str) -> dg.JobDefinition:
    @dg.op
    def leaky(context: dg.OpExecutionContext) -> dg.Output[int]:
        context.log.debug(f"canary {PLANTED}")
        return dg.Output(1, metadata={"payload": dg.MetadataValue.text(payload)})

    @dg.job(name="leak_canary")
    def job() -> None:
        leaky()

    return job


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_the_search_finds_a_secret_in_base64_at_any_alignment(offset: int) -> None:
    secret = SECRETS["client_secret"]
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(b"Basic:"[:offset] + secret.encode() + b"tail")
        assert find([("header", text)], needles({"s": secret})) != []
    assert find([("header", base64.b64encode(b"unrelated" * 8))], needles({"s": secret})) == []


def test_the_search_finds_url_quoted_and_json_escaped_values() -> None:
    email, name = "mia.kowalski@example.net", "Oscar Fernández"
    wanted = needles({"email": email, "name": name}, encodings=False)
    url = b"GET /candidates?email=mia.kowalski%40example.net&page_size=50"
    assert find([("url", url)], wanted) == ["url: email (url)"]
    assert find([("json", b'{"n": "Oscar Fern\\u00e1ndez"}')], wanted) == ["json: name (json)"]
    assert set(forms("a b")) >= {"raw", "url", "url+"}
