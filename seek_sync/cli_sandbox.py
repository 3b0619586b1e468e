"""`seek-sync sandbox serve`: the local fakes of SEEK and the ATSs on one port, from the options
that shape their generated world (used by `make sandbox`, the process stacks, bench and tests)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="The local fakes of SEEK and the ATSs.")


@app.command("serve")
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
    people: Annotated[
        int | None,
        typer.Option(help="Applicants at most: past them, people apply again to other hirers."),
    ] = None,
    edge_cases: Annotated[
        bool, typer.Option(help="Include the edge-case files (limits, hostile names, removed).")
    ] = True,
    token_lifetime: Annotated[int, typer.Option(help="Partner token lifetime, seconds.")] = 1800,
    webhook_url: Annotated[
        list[str] | None,
        typer.Option(
            help="Where to push new events as signed webhooks; repeat it for receiver replicas"
            " (delivered round-robin, the first being the subscription's URL)."
        ),
    ] = None,
    webhook_duplicates: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of webhook batches delivered twice.")
    ] = 0.0,
    byte_cache: Annotated[
        bool, typer.Option(help="Serve files and GraphQL answers from bytes made once (bench).")
    ] = False,
    keep_received_files: Annotated[
        bool, typer.Option(help="Spill files the ATS fakes receive to a folder, to read back.")
    ] = False,
    record_callers: Annotated[
        bool, typer.Option(help="Keep the pid of each Onderwijsregio create's caller (tests).")
    ] = False,
) -> None:
    """Serve every fake on one port; print one JSON line of URLs and credentials once listening."""
    from seek_sync.sandbox.config import SandboxConfig
    from seek_sync.sandbox.onderwijsregio_schema import OnderwijsregioConfig
    from seek_sync.sandbox.server import serve

    serve(
        SandboxConfig(
            host=host,
            port=port,
            seed=seed,
            applications=applications,
            hirers=hirers,
            busy_hirers=busy,
            people=people,
            edge_cases=edge_cases,
            token_lifetime_seconds=token_lifetime,
            webhook_url=webhook_url[0] if webhook_url else None,
            webhook_urls=webhook_url if webhook_url and len(webhook_url) > 1 else [],
            webhook_duplicate_share=webhook_duplicates,
            byte_cache=byte_cache,
            keep_received_files=keep_received_files,
            onderwijsregio=OnderwijsregioConfig(record_callers=record_callers),
        )
    )
