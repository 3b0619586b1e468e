"""Jobs that delete count first: launched by hand (the Launchpad's default config) they are dry
runs; schedules and the CLI say `dry_run` explicitly. A dry run tags itself, so the runs list tells
it apart from a real deletion without opening a step's output."""

import dagster as dg

DRY_RUN_TAG = "seek_sync/dry_run"
NOTE_TAG = "seek_sync/note"  # the run's one-line description, shown with its tags
REAL_RUN = {"dry_run": False}  # what a schedule passes: deleting is its purpose


class DryRunConfig(dg.Config):
    dry_run: bool = True  # count what would go, remove nothing; set false to delete


def mark_dry_run(context: dg.OpExecutionContext, dry_run: bool, what: str) -> None:
    """Tag the run as a dry run (or as deleting for real), with a note saying what it did."""
    note = f"dry run: counted what {what} would remove; nothing removed" if dry_run else what
    context.instance.add_run_tags(
        context.run_id, {DRY_RUN_TAG: str(dry_run).lower(), NOTE_TAG: note}
    )
