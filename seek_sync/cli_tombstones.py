"""`seek-sync tombstones export|reapply`: keep purges applied across a restore.

A restore of an older backup brings back what later purges erased, and the tombstones of those
purges with it are gone (they live in the same database). `export` writes every tombstone (ids and
times only) to a JSON Lines file to keep outside the backups; after a restore, `reapply --from FILE`
puts them back and runs the Dagster job `reapply_tombstones` in `$DAGSTER_HOME`'s instance, which
purges again what they cover (`pipeline/reapply.py`). Run it before the daemon, workers or `sync`
start again. Registered on the main `seek-sync` app (`cli.py`).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Purge tombstones: save them, and apply them again after a restore.")


def _inbox() -> Any:
    from seek_sync.backend import open_inbox
    from seek_sync.cli import _load
    from seek_sync.settings import HomeFields

    return open_inbox(_load(HomeFields))


@app.command("export")
def export_tombstones(
    out: Annotated[Path, typer.Option("--out", help="The JSON Lines file to write.")],
) -> None:
    """Write every tombstone (kind, id, purge id, time: no personal data beyond ids) to a file."""
    from seek_sync.runstate.tombstones import tombstones

    with _inbox() as inbox:
        rows = tombstones(inbox)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    text = "".join(json.dumps(row) + "\n" for row in rows)
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(text)  # readable by its owner only: the erased people's SEEK ids
    partial.replace(out)  # never half a file where the last good one was
    typer.echo(f"{out}: {len(rows)} tombstone(s)")


def _read(path: Path) -> list[dict[str, Any]]:
    from seek_sync.cli import _fail

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as error:
        _fail(f"cannot read tombstones from {path}: {error}")
        raise  # unreachable: _fail exits


@app.command("reapply")
def reapply_tombstones(
    source: Annotated[
        Path | None,
        typer.Option("--from", help="Tombstones saved by `export`, put back first (never lost)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go.")] = False,
) -> None:
    """Purge again everything the tombstones cover (after restoring a backup)."""
    from seek_sync.cli import _fail, _load
    from seek_sync.runstate.tombstones import restore
    from seek_sync.settings import Settings

    _load(Settings)  # one line for a missing setting, before Dagster starts
    if not os.environ.get("DAGSTER_HOME"):
        _fail("DAGSTER_HOME is not set: the re-applied purges run as a Dagster run there")
    if source is not None:
        rows = _read(source)
        try:
            with _inbox() as inbox:
                added = restore(inbox, rows)
        except (KeyError, ValueError) as error:
            _fail(f"{source} is not a tombstones file: {error}")
        typer.echo(f"{source}: {len(rows)} tombstone(s), {added} new or later")

    from seek_sync.driver import dagster_instance
    from seek_sync.launch import TRIGGER_TAG, execute

    job, op = "reapply_tombstones", "reapply_purges"
    with dagster_instance() as instance:
        result = execute(
            instance,
            job,
            run_config={"ops": {op: {"config": {"dry_run": dry_run}}}},
            run_id=str(uuid.uuid4()),
            tags={TRIGGER_TAG: "seek-sync tombstones reapply"},
        )
    if not result.success:
        _fail(f"the {job} run {result.run_id} failed; see it in the Dagster UI")
    with result:
        report = result.output_for_node(op)
    verb = "would purge" if report.dry_run else "purged"
    typer.echo(
        f"{report.tombstones} tombstone(s): {verb} {len(report.hirers)} hirer(s) and "
        f"{report.candidates} candidate(s) whole, {report.profiles} other application(s), "
        f"{report.inbox_events} inbox event(s); {report.blob_bytes:,} blob bytes; "
        f"{len(report.purge_ids)} purge(s) audited"
    )
    sys.exit(0)
