"""The `seek-sync` command: demo, sync, dev, poll, the receiver app and the sandbox."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

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

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
sandbox_app = typer.Typer(no_args_is_help=True, help="The local fakes of SEEK and the ATSs.")
app.add_typer(sandbox_app, name="sandbox")
receiver_app = typer.Typer(no_args_is_help=True, help="The webhook and callback receiver app.")
app.add_typer(receiver_app, name="receiver")


def _fail(message: str) -> None:
    typer.echo(f"seek-sync: {message}", err=True)
    raise typer.Exit(code=2)


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the generated data set.")] = 7,
    applications: Annotated[int, typer.Option(help="Applications to generate.")] = 60,
    hirers: Annotated[
        int, typer.Option(help="Hirers to generate; above 10, all have our relationship.")
    ] = 4,
    busy: Annotated[
        int | None, typer.Option(help="Spread the applications over only this many hirers.")
    ] = None,
    edge_cases: Annotated[
        bool, typer.Option(help="Include the edge-case files (limits, hostile names, removed).")
    ] = True,
    token_lifetime: Annotated[int, typer.Option(help="Partner token lifetime, seconds.")] = 1800,
    webhook_url: Annotated[
        str | None, typer.Option(help="Where to push new events as signed webhooks.")
    ] = None,
) -> None:
    """Serve every fake on one port; print one JSON line of URLs and credentials once listening."""
    from seek_sync.sandbox.config import SandboxConfig
    from seek_sync.sandbox.server import serve

    serve(
        SandboxConfig(
            host=host,
            port=port,
            seed=seed,
            applications=applications,
            hirers=hirers,
            busy_hirers=busy,
            edge_cases=edge_cases,
            token_lifetime_seconds=token_lifetime,
            webhook_url=webhook_url,
        )
    )


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

    from seek_sync.logs import configure_logging
    from seek_sync.poller import poll as poll_once
    from seek_sync.runstate.inbox import Inbox
    from seek_sync.seek.client import SeekClient, http_client

    configure_logging()
    settings = _load(PollerSettings)
    inbox = Inbox(settings.inbox_path)

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
        str, typer.Option(help="Whose settings: receiver, poller or run (steps, ticks, sync).")
    ] = "run",
) -> None:
    """Load one role's settings from the environment and print them (secrets masked)."""
    if role not in ROLES:
        _fail(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    settings = _load(ROLES[role])
    for name, value in settings.model_dump().items():
        typer.echo(f"{name} = {value}")


@app.command()
def demo(
    applications: Annotated[int, typer.Option(help="Applications in the sandbox.")] = 60,
) -> None:
    """The whole flow through Dagster on the local sandbox, checked against its own counts."""
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
        driver = Driver(instance, settings=settings)
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
def bench(
    applications: Annotated[int, typer.Option(help="Applications in the timed workload.")] = 300,
    hirers: Annotated[int, typer.Option(help="Hirers in the sandbox world.")] = 3,
    busy: Annotated[
        int | None,
        typer.Option(help="Sparse case: every hirer has history; the workload goes to this many."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of both sandbox worlds.")] = 7,
    interval: Annotated[float, typer.Option(help="Idle wait of both paths' loops, seconds.")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The same workload through the library path and the Dagster path (`sync --loop`), each on
    its own sandbox process from an empty home, timed until settled at the fakes."""
    from seek_sync.bench.run import main_json, run_bench
    from seek_sync.progress import CommandProgress

    with CommandProgress(transient=True) as progress:  # on stderr: stdout is the result only
        result = run_bench(applications, hirers, busy, seed, interval, progress)
    if as_json:
        typer.echo(main_json(result))
        return
    for key, value in result.items():
        typer.echo(f"{key}: {value}")


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


def _register_privacy_commands() -> None:
    from seek_sync.cli_privacy import export, purge

    app.command()(purge)
    app.command()(export)


_register_privacy_commands()

if __name__ == "__main__":
    app()
