"""The `seek-sync` command: demo, sync, dev, poll, the receiver app, the sandbox, db upgrade,
migrate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from seek_sync.cli_db import app as db_app
from seek_sync.cli_sandbox import app as sandbox_app
from seek_sync.settings import (
    ROLES,
    PollerSettings,
    ReceiverSettings,
    Settings,
    SettingsBase,
    SettingsError,
    load,
)

if TYPE_CHECKING:
    from seek_sync.driver import TickOutcome

S = TypeVar("S", bound=SettingsBase)
DEFINITIONS = "seek_sync.definitions"
CLUSTER_HOME = Path(".seek-sync/cluster")  # seek_sync/cluster/config.py DEFAULT_HOME


class _Command(typer.Typer):
    """The `seek-sync` app: a state schema this release may not use ends the process in one line
    (exit 2), whichever command opened it."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        from seek_sync.db.migrations import SchemaError

        try:
            return super().__call__(*args, **kwargs)
        except SchemaError as error:
            typer.echo(f"seek-sync: {error}", err=True)
            sys.exit(2)


app = _Command(no_args_is_help=True, add_completion=False, help=__doc__)
app.add_typer(sandbox_app, name="sandbox")
receiver_app = typer.Typer(no_args_is_help=True, help="The webhook and callback receiver app.")
app.add_typer(receiver_app, name="receiver")
app.add_typer(db_app, name="db")


def _fail(message: str) -> None:
    typer.echo(f"seek-sync: {message}", err=True)
    raise typer.Exit(code=2)


def _load(model: type[S]) -> S:
    """One role's settings, or exit 2 with the one line naming the bad setting."""
    try:
        return load(model)
    except SettingsError as error:
        _fail(str(error))
        raise  # unreachable: _fail exits


@app.command()
def poll(
    once: Annotated[bool, typer.Option("--once", help="Poll one time and exit.")] = False,
) -> None:
    """Read SEEK events from the saved cursor into the inbox (loops unless --once)."""
    import asyncio

    from seek_sync.backend import open_inbox
    from seek_sync.logs import configure_logging
    from seek_sync.poller import poll as poll_once
    from seek_sync.seek.client import SeekClient, http_client

    configure_logging()
    settings = _load(PollerSettings)
    inbox = open_inbox(settings)

    async def run() -> int:
        async with http_client(settings) as http:
            client = SeekClient(http, settings)
            while True:
                report = await poll_once(
                    client, inbox, budget_seconds=settings.poll_time_budget_seconds
                )
                typer.echo(
                    f"pages={report.pages} read={report.events_read} new={report.events_new} "
                    f"unknown_hirer={report.unknown_hirer} rejected={report.rejected} "
                    f"resolved={report.hirers_resolved} "
                    f"out_of_budget={report.out_of_budget} errors={len(report.errors)} "
                    f"inbox={inbox.counts()}"
                )
                if once:
                    return 1 if report.errors else 0
                await asyncio.sleep(settings.poll_interval_seconds)

    sys.exit(asyncio.run(run()))


@receiver_app.command("serve")
def receiver_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8701,
) -> None:
    """Serve SEEK webhooks, ATS callbacks and signed blob URLs (reads receiver settings only)."""
    from seek_sync.receiver.app import serve

    settings = _load(ReceiverSettings)
    try:
        serve(settings, host, port)
    except SettingsError as error:  # the hirer map, or a callback secret it names
        _fail(str(error))


@app.command("check-settings")
def check_settings(
    role: Annotated[
        str,
        typer.Option(help="Whose settings: receiver, poller, proxy or run (steps, ticks, sync)."),
    ] = "run",
) -> None:
    """Load one role's settings from the environment and print them (secrets masked)."""
    from seek_sync.proxy.settings import ProxySettings

    roles = ROLES | {"proxy": ProxySettings}
    if role not in roles:
        _fail(f"unknown role {role!r}: one of {', '.join(roles)}")
    settings = _load(roles[role])
    for name, value in settings.model_dump().items():
        typer.echo(f"{name} = {value}")


@app.command()
def demo(
    applications: Annotated[int, typer.Option(help="Applications in the sandbox.")] = 60,
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster", help="Run it on the local cluster (`seek-sync cluster up` first)."
        ),
    ] = False,
    cluster_home: Annotated[
        Path, typer.Option(help="With --cluster: the cluster's home.")
    ] = CLUSTER_HOME,
) -> None:
    """The whole flow through Dagster on the local sandbox, checked against its own counts."""
    if cluster:
        from seek_sync.cluster.demo import run_cluster_demo
        from seek_sync.cluster.health import ClusterError

        try:
            code = run_cluster_demo(cluster_home)
        except (ClusterError, SettingsError) as error:
            _fail(str(error))
        sys.exit(code)
    from seek_sync.demo import run_demo

    try:
        code = run_demo(applications=applications)
    except SettingsError as error:
        _fail(str(error))
    sys.exit(code)


@app.command()
def sync(
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep ticking (start-up paid once) instead of one tick.")
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option(
            help="Seconds between idle ticks with --loop (SEEK_SYNC_SYNC_INTERVAL_SECONDS)."
        ),
    ] = None,
) -> None:
    """Sensor ticks and their runs, in this process, on $DAGSTER_HOME: one tick (cron) or --loop.

    Exits 1 when a run failed, 2 when the settings or DAGSTER_HOME are missing.
    """
    import os

    settings = _load(Settings)  # one line for a missing or wrong setting, before Dagster starts
    if not os.environ.get("DAGSTER_HOME"):
        _fail("DAGSTER_HOME is not set: the sync keeps its cursor and runs in that instance")

    from seek_sync.driver import Driver, dagster_instance
    from seek_sync.logs import configure_logging

    configure_logging()

    from seek_sync.progress import CommandProgress, LoopStatus

    def report(outcome: TickOutcome, out: CommandProgress | None = None) -> None:
        out = out or CommandProgress(mode="plain")
        if not out.rich or outcome.ran or outcome.new_hirers:  # rich: idle ticks in the status
            out.line(
                f"hirers added: {len(outcome.new_hirers)}; hirers synced: {outcome.hirers}; "
                f"runs: {len(outcome.runs_succeeded)} ok, {len(outcome.runs_failed)} failed, "
                f"{len(outcome.runs_already_done)} already done; {outcome.seconds:.2f} s"
                + (f"; {outcome.skipped_reason}" if outcome.skipped_reason else "")
            )
        for run_key in outcome.runs_failed:
            out.line(f"failed: {run_key}", err=True)

    with dagster_instance() as instance:
        driver = Driver(instance, settings=settings, trigger="sync --loop" if loop else "sync")
        if loop:
            seconds = interval or settings.sync_interval_seconds
            with CommandProgress() as progress:
                status = LoopStatus(seconds)
                progress.status(status.text)

                def on_tick(outcome: TickOutcome) -> None:
                    status.add(outcome)
                    report(outcome, progress)

                driver.loop(seconds, on_tick=on_tick)
            return
        outcome = driver.tick()
    report(outcome)
    sys.exit(1 if outcome.runs_failed else 0)


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Dagster UI port.")] = 3000,
    home: Annotated[str, typer.Option(help="Stack home; emptied at start.")] = ".seek-sync/dev",
) -> None:
    """The sandbox, the receiver and `dagster dev` (webserver + daemon) on the sandbox's data.

    Starts from scratch each time (`.seek-sync/dev`, or `--home`, is emptied): a new sandbox is a
    new SEEK. The stack's settings (SEEK_SYNC_*, DAGSTER_HOME) go to `env.sh` (0600) in that home:
    `source` it in a second shell to launch runs (`dg launch`, `dagster asset materialize`) against
    this stack.
    """
    import shutil
    from pathlib import Path

    from seek_sync.local_stack import (
        WORKSPACE_YAML,
        dev_banner,
        dev_env_file,
        local_stack,
        quiet_run_logs,
        run_dagster_dev,
    )

    stack_home = Path(home).resolve()
    shutil.rmtree(stack_home, ignore_errors=True)
    with local_stack(stack_home) as stack:
        env_file = dev_env_file(stack)
        quiet_run_logs(stack.dagster_home)
        for line in dev_banner(stack, env_file, port):
            typer.echo(line)
        # The project's workspace.yaml (same location name as `-m seek_sync.definitions`); service
        # logs at INFO (the run processes' own event logs are unchanged).
        target = ["-w", str(WORKSPACE_YAML)] if WORKSPACE_YAML.exists() else ["-m", DEFINITIONS]
        command = ["dagster", "dev", *target, "-p", str(port), "--log-level", "info"]
        command += ["--code-server-log-level", "warning"]
        bin_dir = Path(sys.executable).parent
        run_dagster_dev([str(bin_dir / command[0]), *command[1:]])


def _register_commands() -> None:
    """The commands that live in their own modules: personal data, attachments on demand, the
    Celery worker, the local cluster, the move from an embedded home to the server backend, the
    hirer keys and the benchmarks."""
    from seek_sync.cli_bench import bench
    from seek_sync.cli_cluster import app as cluster_app
    from seek_sync.cli_hirers import hirers
    from seek_sync.cli_migrate import migrate
    from seek_sync.cli_ondemand import browser_token, proxy_app
    from seek_sync.cli_privacy import export, purge
    from seek_sync.cli_tombstones import app as tombstones_app
    from seek_sync.cli_worker import worker

    app.add_typer(cluster_app, name="cluster")
    app.command()(purge)
    app.command()(export)
    app.command("browser-token")(browser_token)
    app.add_typer(proxy_app, name="proxy")
    app.command()(worker)
    app.command()(migrate)
    app.add_typer(tombstones_app, name="tombstones")
    app.command()(bench)
    app.command()(hirers)


_register_commands()

if __name__ == "__main__":
    app()
