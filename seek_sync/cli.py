"""The `seek-sync` command: demo, sandbox and (in later issues) sync, poll and receiver."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from seek_sync.settings import Settings, SettingsError, load_settings

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
    hirers: Annotated[int, typer.Option(help="Hirers to generate.")] = 4,
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
            token_lifetime_seconds=token_lifetime,
            webhook_url=webhook_url,
        )
    )


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        _fail(str(error))
        raise  # unreachable: _fail exits


@app.command()
def poll(
    once: Annotated[bool, typer.Option("--once", help="Poll one time and exit.")] = False,
) -> None:
    """Read SEEK events from the saved cursor into the inbox (loops unless --once)."""
    import asyncio

    from seek_sync.inbox import Inbox
    from seek_sync.logs import configure_logging
    from seek_sync.poller import poll as poll_once
    from seek_sync.seek.client import SeekClient, http_client

    configure_logging()
    settings = _settings()
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
                    f"unknown_hirer={report.unknown_hirer} resolved={report.hirers_resolved} "
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
    """Serve SEEK webhooks (and later ATS callbacks and signed blob URLs) into the inbox."""
    from seek_sync.receiver import serve

    serve(_settings(), host, port)


@app.command("check-settings")
def check_settings() -> None:
    """Load the settings from the environment and print them (secrets masked)."""
    settings = _settings()
    for name, value in settings.model_dump().items():
        typer.echo(f"{name} = {value}")


@app.command()
def demo(
    applications: Annotated[int, typer.Option(help="Applications in the sandbox.")] = 60,
) -> None:
    """Start the sandbox in-process and show what it serves."""
    from seek_sync.demo import run_demo

    try:
        code = run_demo(applications=applications)
    except SettingsError as error:
        _fail(str(error))
    sys.exit(code)


if __name__ == "__main__":
    app()
