"""`seek-sync worker`: a Celery worker that executes whole seek-sync runs (docs/deploying.md).

It writes its own Dagster instance file (the same one every process of the deployment writes from
the same variables: PostgreSQL storage, the Celery run launcher) into `--dagster-home`, then
becomes `celery -A seek_sync.celery_worker worker` consuming the deployment's queue, named
`NAME@host`, with `--slots` pool processes (one run each at a time). Nothing else is read from or
written to local disk: the worker shares only PostgreSQL, S3 and the broker with the rest.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

APP = "seek_sync.celery_worker"


def celery_command(name: str, queue: str, slots: int, loglevel: str) -> list[str]:
    """The Celery worker command line (this interpreter's celery, so the same code and pins)."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        APP,
        "worker",
        "--queues",
        queue,
        "--hostname",
        f"{name}@%h",
        "--concurrency",
        str(slots),
        "--prefetch-multiplier",
        "1",
        "--loglevel",
        loglevel,
        # No worker-to-worker chatter at start (mingle) or after (gossip): runs need neither,
        # and a worker is ready sooner.
        "--without-mingle",
        "--without-gossip",
    ]


def worker(
    name: Annotated[str, typer.Option(help="This worker's name; the run tag reads NAME@host.")],
    slots: Annotated[int, typer.Option(min=1, help="Runs this worker executes at once.")] = 1,
    dagster_home: Annotated[
        Path | None,
        typer.Option(help="Where to write this worker's instance file (default: $DAGSTER_HOME)."),
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
) -> None:
    """Execute seek-sync runs from the deployment's Celery queue (server backend only)."""
    from seek_sync.celery_cluster import BROKER_ENV, CeleryCluster
    from seek_sync.dagster_instance import make_home
    from seek_sync.settings import SettingsError

    home = dagster_home or (
        Path(os.environ["DAGSTER_HOME"]) if "DAGSTER_HOME" in os.environ else None
    )
    if home is None:
        typer.echo("seek-sync worker: set DAGSTER_HOME or give --dagster-home", err=True)
        raise typer.Exit(2)
    try:
        cluster = CeleryCluster.chosen(os.environ)
        if cluster is None:
            raise SettingsError(f"setting {BROKER_ENV} is missing (runs on Celery workers)")
        variables = make_home(home.resolve(), os.environ)
    except SettingsError as error:
        typer.echo(f"seek-sync: {error}", err=True)
        raise typer.Exit(2) from None
    command = celery_command(name, cluster.queue, slots, loglevel)
    sys.stdout.flush()
    os.execve(sys.executable, command, {**os.environ, **variables})
