"""`seek-sync cluster up|down|status`: the whole deployment on one machine (seek_sync/cluster).

`up` starts the sandbox, a moto S3, two receivers, a code server, the webserver, the daemon and
two Celery workers against this machine's PostgreSQL, RabbitMQ and Redis, returns once every one
answers and prints where the UI is; `down` stops exactly those processes and removes the
database, queue and Redis keys the cluster made. docs/deploying.md, "A local cluster in one
command".
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seek_sync.cluster.config import DEFAULT_HOME

if TYPE_CHECKING:
    from seek_sync.cluster.config import ClusterServices

app = typer.Typer(
    no_args_is_help=True,
    help="The whole deployment on this machine: sandbox, moto S3, two receivers, code server,"
    " webserver, daemon and two Celery workers, against its PostgreSQL, RabbitMQ and Redis.",
)
HOME = Annotated[Path, typer.Option(help="The cluster's home: its state file, logs, dirs.")]
DATABASE_HELP = (
    "An existing database on the cluster's PostgreSQL to run on (a home moved up by `seek-sync"
    " migrate`: schema seek_sync, its Dagster instance in seek_sync_dagster); kept at `down`."
)
BLOBS_HELP = "An existing bucket to run on (s3://bucket/prefix, with --s3-endpoint); kept."
S3_HELP = "An S3 endpoint to use instead of starting moto (it must take moto's test keys)."
SANDBOX_HELP = (
    "A running sandbox to use instead of starting one: a file holding its start-up JSON line"
    " (`sandbox serve` prints it; it holds credentials). Its webhooks go to the receivers."
)


def _services() -> ClusterServices:
    from seek_sync.cluster.config import ClusterServices
    from seek_sync.settings import SettingsError, load

    try:
        return load(ClusterServices)
    except SettingsError as error:
        typer.echo(f"seek-sync: {error}", err=True)
        raise typer.Exit(2) from None


@app.command()
def up(
    home: HOME = DEFAULT_HOME,
    hirers: Annotated[int, typer.Option(help="Hirers in the sandbox.")] = 6,
    applications: Annotated[int, typer.Option(help="Applications in the sandbox.")] = 60,
    seed: Annotated[int, typer.Option(help="Seed of the sandbox's data set.")] = 7,
    edge_cases: Annotated[bool, typer.Option(help="The sandbox's edge-case files.")] = True,
    ui_port: Annotated[int, typer.Option(help="The webserver's port; 0 picks a free one.")] = 3000,
    timeout: Annotated[float, typer.Option(help="Seconds for every process to answer.")] = 300,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
    blobs: Annotated[str | None, typer.Option(help=BLOBS_HELP)] = None,
    s3_endpoint: Annotated[str | None, typer.Option(help=S3_HELP)] = None,
    sandbox_info: Annotated[Path | None, typer.Option(help=SANDBOX_HELP)] = None,
) -> None:
    """Start the whole cluster; return once every process answers. On an existing database,
    bucket or sandbox if given (a home moved up by `seek-sync migrate`)."""
    from seek_sync.cluster.config import ClusterState
    from seek_sync.cluster.down import tear_down
    from seek_sync.cluster.existing import Existing, read_sandbox_info
    from seek_sync.cluster.services import reachable
    from seek_sync.cluster.up import World, bring_up

    services, home = _services(), home.resolve()
    if ClusterState.load(home) is not None:
        typer.echo(
            f"seek-sync: a cluster is recorded in {home}: `seek-sync cluster down` first", err=True
        )
        raise typer.Exit(2)
    try:
        sandbox = read_sandbox_info(sandbox_info) if sandbox_info else None
    except (OSError, ValueError) as error:
        typer.echo(f"seek-sync: --sandbox-info: {error}", err=True)
        raise typer.Exit(2) from None
    existing = Existing(database, blobs, s3_endpoint, sandbox)
    problem = reachable(services) or existing.problem(services)
    if problem:
        typer.echo(f"seek-sync: {problem}", err=True)
        raise typer.Exit(2)
    home.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(home / "processes", ignore_errors=True)  # a stopped cluster's folders and logs
    state, started = ClusterState.new(home), time.monotonic()
    existing.apply(state)
    world = World(applications, hirers, seed, edge_cases)
    say = typer.echo
    try:
        environ, deadline = dict(os.environ), started + timeout
        bring_up(state, services, world, environ, ui_port, deadline, say, existing)
    except (Exception, KeyboardInterrupt) as error:
        typer.echo(f"seek-sync: cluster up failed: {error}", err=True)
        done = tear_down(state, services, say=say)
        for problem in done.problems:
            typer.echo(f"seek-sync: cluster down: {problem}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"cluster up in {time.monotonic() - started:.0f} s (home {home})")
    typer.echo(f"  UI         {state.ui_url}")
    typer.echo(f"  sandbox    {state.sandbox_url}")
    typer.echo(f"  receivers  {'  '.join(state.receiver_urls)}")
    typer.echo(f"  workers    {'  '.join(state.workers)} on queue {state.queue}")
    kept = f" (adopted: {', '.join(state.adopted)})" if state.adopted else ""
    typer.echo(f"  database   {state.database}{kept}; logs under {home / 'processes'}")
    typer.echo("  stop it with: seek-sync cluster down" + _home_option(home))


def _home_option(home: Path) -> str:
    return "" if home == DEFAULT_HOME.resolve() else f" --home {home}"


@app.command()
def down(
    home: HOME = DEFAULT_HOME,
    grace: Annotated[float, typer.Option(help="Seconds between SIGTERM and SIGKILL.")] = 20,
) -> None:
    """Stop what `cluster up` started; drop its database, queue and Redis keys."""
    from seek_sync.cluster.config import ClusterState
    from seek_sync.cluster.down import tear_down

    services = _services()
    state = ClusterState.load(home.resolve())
    if state is None:
        typer.echo(f"seek-sync: no cluster recorded in {home.resolve()}", err=True)
        raise typer.Exit(2)
    done = tear_down(state, services, grace, say=typer.echo)
    if done.killed:
        typer.echo(f"needed SIGKILL: {', '.join(done.killed)}")
    for problem in done.problems:
        typer.echo(f"seek-sync: cluster down: {problem}", err=True)
    if done.problems:
        raise typer.Exit(1)
    dropped = "kept" if "database" in state.adopted else "dropped"
    typer.echo(
        f"cluster down: {len(done.stopped)} process group(s) stopped, database {state.database}"
        f" {dropped}, queue deleted, {done.results_removed} Redis result(s) removed"
    )


@app.command()
def status(home: HOME = DEFAULT_HOME) -> None:
    """Each recorded process: running or gone."""
    from seek_sync.cluster.config import ClusterState
    from seek_sync.cluster.processes import alive

    state = ClusterState.load(home.resolve())
    if state is None:
        typer.echo(f"no cluster recorded in {home.resolve()}")
        raise typer.Exit(1)
    running = alive(state.processes)
    for record in state.processes:
        where = f" :{record.port}" if record.port else ""
        typer.echo(f"{record.name:<12} {'running' if record.name in running else 'gone':<8}{where}")
    typer.echo(f"UI {state.ui_url}")
    if len(running) != len(state.processes):
        raise typer.Exit(1)
