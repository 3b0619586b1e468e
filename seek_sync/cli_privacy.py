"""`seek-sync purge` and `seek-sync export`: personal data on request, each a Dagster run in
`$DAGSTER_HOME`'s instance (shown in the UI's run history like any run, without the email).

Registered on the main `seek-sync` app (`cli.py`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

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
    _load(Settings)  # one line for a missing setting, before Dagster starts
    if not os.environ.get("DAGSTER_HOME"):
        _fail(f"DAGSTER_HOME is not set: the {job} runs as a Dagster run in that instance")

    from seek_sync.assets.privacy import hand_over_email
    from seek_sync.definitions import defs
    from seek_sync.driver import dagster_instance

    email = selection["email"]
    config |= {
        "hirer_id": selection["hirer"] or "",
        "candidate_id": selection["candidate"] or "",
        "email_token": hand_over_email(email) if email else "",
    }
    with dagster_instance() as instance:
        result = defs.resolve_job_def(job).execute_in_process(
            run_config={"ops": {op: {"config": config}}},
            instance=instance,
            raise_on_error=False,
            tags={"seek_sync/trigger": f"cli {job}"},
        )
    if not result.success:
        _fail(f"the {job} run {result.run_id} failed; see it in the Dagster UI")
    return result.output_for_node(op)


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
