"""`seek-sync bench`: the library path against the Dagster path (or the local cluster), the client
at the floor, or the time an application takes to reach the ATS under a steady trickle
(docs/performance.md; the cluster in docs/deploying.md)."""

from __future__ import annotations

from typing import Annotated

import typer


def bench(
    applications: Annotated[int, typer.Option(help="Applications in the timed workload.")] = 300,
    hirers: Annotated[int, typer.Option(help="Hirers in the sandbox world.")] = 3,
    busy: Annotated[
        int | None,
        typer.Option(help="Sparse case: every hirer has history; the workload goes to this many."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of both sandbox worlds.")] = 7,
    interval: Annotated[
        float | None,
        typer.Option(
            help="Idle wait of the loops, seconds (default 1; with --trickle, the loop's setting"
            " as deployed)."
        ),
    ] = None,
    floor: Annotated[
        bool,
        typer.Option(
            "--floor",
            help="Instead: the library's SEEK downloads and profile queries against a bare"
            " aiohttp client over the same requests (a byte-cache sandbox).",
        ),
    ] = False,
    rounds: Annotated[int, typer.Option(help="--floor: rounds; rates are their median.")] = 3,
    trickle: Annotated[
        float | None,
        typer.Option(
            help="Instead: R new applications a second, each a signed webhook, spread over"
            " --hirers; each path timed from the webhook's acceptance to the ATS and confirmed.",
        ),
    ] = None,
    duration: Annotated[float, typer.Option(help="--trickle: seconds of trickle.")] = 120.0,
    paths: Annotated[
        str, typer.Option(help="--trickle: the paths, comma-separated, in order.")
    ] = "loop,daemon,cluster,floor",
    idle_window: Annotated[
        float, typer.Option(help="--trickle: seconds of quiet over which idle CPU is measured.")
    ] = 60.0,
    settle_timeout: Annotated[
        float | None,
        typer.Option(
            help="--trickle, --cluster: longest wait for a path to settle, seconds (600 with"
            " --trickle, 3600 with --cluster)."
        ),
    ] = None,
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="Instead of the Dagster path: the local cluster of `seek-sync cluster up`"
            " (sensor, daemon, two Celery workers; needs PostgreSQL, RabbitMQ and Redis), beside"
            " the library path, until settled at the fakes; torn down after.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The same workload through the library path and the Dagster path (`sync --loop`), each on
    its own sandbox process from an empty home, timed until settled at the fakes (with
    `--cluster`, the local cluster instead of the Dagster path); or, with `--floor`, the
    library's SEEK client against a bare aiohttp client; or, with `--trickle`, how long each
    application takes from its webhook to the ATS on each path as deployed."""
    from seek_sync.bench.run import main_json, run_bench
    from seek_sync.progress import CommandProgress

    with CommandProgress(transient=True) as progress:  # on stderr: stdout is the result only
        if trickle is not None:
            from seek_sync.bench.trickle import run_trickle

            chosen = [p.strip() for p in paths.split(",") if p.strip()]
            try:
                result = run_trickle(
                    trickle,
                    duration,
                    hirers,
                    paths=chosen,
                    seed=seed,
                    interval=interval,
                    idle_window=idle_window,
                    settle_timeout=settle_timeout or 600.0,
                    progress=progress,
                )
            except ValueError as error:
                raise typer.BadParameter(str(error), param_hint="--paths") from None
        elif cluster:
            from seek_sync.bench.cluster import run_cluster_bench

            if busy:
                raise typer.BadParameter("not with --cluster", param_hint="--busy")
            result = run_cluster_bench(
                applications, hirers, seed, interval or 1.0, settle_timeout or 3600.0, progress
            )
        elif floor:
            from seek_sync.bench.floor import run_floor

            result = run_floor(applications, hirers, seed, rounds, progress)
        else:
            result = run_bench(applications, hirers, busy, seed, interval or 1.0, progress)
    if as_json:
        typer.echo(main_json(result))
        return
    for key, value in result.items():
        typer.echo(f"{key}: {value}")
