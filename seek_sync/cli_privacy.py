"""`seek-sync purge` and `seek-sync export`: personal data on request, each a Dagster run in
`$DAGSTER_HOME`'s instance, created with the code location's job origin (listed under the `purge`
or `export` job in the UI, without the email; a request by email says it cannot be re-executed).

Registered on the main `seek-sync` app (`cli.py`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import dagster as dg

    from seek_sync.progress import CommandProgress
    from seek_sync.settings import Settings

Hirer = Annotated[str | None, typer.Option("--hirer", help="A SEEK hirer id.")]
Candidate = Annotated[
    str | None, typer.Option("--candidate", help="A SEEK candidate id (optionally with --hirer).")
]
Email = Annotated[
    str | None, typer.Option("--email", help="Every candidate with this email address.")
]


def _run(job: str, op: str, selection: dict[str, str | None], **config: Any) -> Any:
    """Run `job` (its one op configured with the selection and `config`) and return its output;
    exit 2 with one line when the selection, the settings or the run fail."""
    from seek_sync.cli import _fail, _load
    from seek_sync.settings import Settings
    from seek_sync.store.purge import Selector

    try:
        Selector(selection["hirer"], selection["candidate"], selection["email"])
    except ValueError:
        _fail("choose one: --hirer, --candidate or --email (the last two optionally with --hirer)")
    settings = _load(Settings)  # one line for a missing setting, before Dagster starts
    if not os.environ.get("DAGSTER_HOME"):
        _fail(f"DAGSTER_HOME is not set: the {job} runs as a Dagster run in that instance")

    from seek_sync.assets.privacy import hand_over_email
    from seek_sync.driver import dagster_instance
    from seek_sync.launch import TRIGGER_TAG, execute
    from seek_sync.progress import CommandProgress

    email = selection["email"]
    config |= {
        "hirer_id": selection["hirer"] or "",
        "candidate_id": selection["candidate"] or "",
        "email_token": hand_over_email(email) if email else "",
    }
    held = _held(settings, selection["hirer"]) if job == "purge" else 0
    run_id = str(uuid.uuid4())
    with dagster_instance() as instance, CommandProgress(transient=True) as progress:
        if held:
            progress.step(f"{held} hirer(s) held by live runs: the purge waits for any it touches")
        with _watching(instance, job, run_id, held, progress):
            result = execute(
                instance,
                job,
                run_config={"ops": {op: {"config": config}}},
                run_id=run_id,
                tags={TRIGGER_TAG: f"seek-sync {job}"}
                | ({REEXECUTE_TAG: NO_REEXECUTION} if email else {}),
            )
    if not result.success:
        _fail(f"the {job} run {result.run_id} failed; see it in the Dagster UI")
    with result:  # outputs are read back through the run's IO manager
        return result.output_for_node(op)


REEXECUTE_TAG = "seek_sync/re-execute"
NO_REEXECUTION = "no: by email, which lived only in the CLI process (run the command again)"


def _held(settings: Settings, hirer: str | None) -> int:
    """Hirers live runs hold now (only `hirer`, when the purge names it). Read once, before the
    run: nothing else of this process reads the inbox while the purge scrubs it."""
    from seek_sync.backend import open_inbox
    from seek_sync.runstate.leases import leases_for

    with open_inbox(settings) as inbox:
        live = leases_for(settings, inbox).live()
    return len([h for h in live if hirer is None or h == hirer])


@contextmanager
def _watching(
    instance: dg.DagsterInstance, job: str, run_id: str, held: int, progress: CommandProgress
) -> Iterator[None]:
    """The run's status, read from the instance while the run executes in this thread: a
    spinner in a terminal, a line per change on stderr otherwise."""
    from dagster import DagsterRunStatus

    started, stop, seen = time.monotonic(), threading.Event(), ["launching"]

    def text() -> str:
        waits = f" · may wait for {held} held hirer(s)" if held and seen[-1] == "STARTED" else ""
        return f"{job} run {run_id[:8]}: {seen[-1]}{waits} · {time.monotonic() - started:.0f} s"

    def watch() -> None:
        while True:
            done = stop.wait(0.25)
            run = instance.get_run_by_id(run_id)
            status = "launching"
            if run is not None and run.status != DagsterRunStatus.NOT_STARTED:
                status = run.status.value
            if status != seen[-1]:
                seen.append(status)
                if not progress.rich:
                    progress.step(f"{job} run {run_id}: {status}")
            if done:
                return

    progress.status(text)
    watcher = threading.Thread(target=watch, name=f"{job}-run-status", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def purge(
    hirer: Hirer = None,
    candidate: Candidate = None,
    email: Email = None,
    reason: Annotated[str, typer.Option(help="Why, for the audit table (no personal data).")] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go.")] = False,
) -> None:
    """Remove data everywhere seek-sync keeps it, leave id-only tombstones, audit the purge."""
    selection = {"hirer": hirer, "candidate": candidate, "email": email}
    report = _run("purge", "purge_data", selection, reason=reason, dry_run=dry_run)
    verb = "would remove" if report.dry_run else "removed"
    typer.echo(
        f"{report.purge_id} ({report.kind}{', dry run' if report.dry_run else ''}): {verb} "
        f"{report.profiles} profile(s) of {report.candidates} candidate(s) in "
        f"{len(report.hirer_ids)} hirer(s); {report.blob_bytes:,} blob bytes"
    )
    for table, count in sorted(report.counts.items()):
        typer.echo(f"  {table}: {count}")
    sys.exit(0)


def export(
    out: Annotated[Path, typer.Option("--out", help="The archive to write (.zip).")],
    hirer: Hirer = None,
    candidate: Candidate = None,
    email: Email = None,
) -> None:
    """Write everything held about a person (an access request) to one ZIP archive."""
    selection = {"hirer": hirer, "candidate": candidate, "email": email}
    counts = _run("export", "export_data", selection, out=str(out.resolve()))
    typer.echo(f"{out}: " + ", ".join(f"{n} {name}" for name, n in counts.items()))
    sys.exit(0)
