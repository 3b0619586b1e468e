"""`seek-sync migrate --to URL [--blobs URL]`: move an embedded home up to the server backend.

Run it in the embedded home's environment (`SEEK_SYNC_HOME` and friends name what is copied),
with `--to` naming the PostgreSQL database (schema `SEEK_SYNC_DATABASE_SCHEMA`), `--blobs` where
the blobs go (`s3://bucket/prefix`, with `SEEK_SYNC_S3_ENDPOINT_URL` and the `AWS_*` variables;
without it they stay where they are) and `DAGSTER_HOME` the new Dagster instance, where the
hirer partitions are recreated. The logic is `seek_sync/migrate.py`; docs/deploying.md says
what moves and what stays behind. Registered on the main `seek-sync` app (`cli.py`).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer


def migrate(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The server database: postgresql+psycopg://user[:password]@host:port/db (a "
            "secret: never printed). Schema: SEEK_SYNC_DATABASE_SCHEMA.",
        ),
    ],
    blobs: Annotated[
        str | None,
        typer.Option(
            "--blobs",
            help="Where the blobs go (s3://bucket/prefix or any fsspec URL); unset, they stay.",
        ),
    ] = None,
) -> None:
    """Copy the embedded home (inbox, run state, warehouse, blobs) into the server backend,
    check the counts, and recreate the hirer partitions in $DAGSTER_HOME's instance."""
    from seek_sync.cli import _fail
    from seek_sync.migrate import HomeSettings, MigrateError, migrate
    from seek_sync.settings import SettingsError, load

    if not os.environ.get("DAGSTER_HOME"):
        _fail("DAGSTER_HOME is not set: name the new Dagster instance (its hirer partitions)")
    try:
        home = load(HomeSettings, database_url=None)
    except SettingsError as error:
        _fail(str(error))
        raise
    try:
        target = load(
            HomeSettings, database_url=to, blob_url=blobs or home.blob_url, home=home.home
        )
    except SettingsError:
        _fail("--to must be a postgresql+psycopg:// URL (the driver named)")
        raise
    typer.echo(f"migrating {home.home} to schema {target.database_schema} of the server")
    import psycopg

    try:
        result = migrate(home, target, say=lambda line: typer.echo(f"  {line}"))
    except MigrateError as error:
        _fail(str(error))
        raise
    except psycopg.OperationalError as error:
        _fail(f"cannot use the database: {str(error).strip().splitlines()[0]}")
        raise
    typer.echo("counts (home = server):")
    for copied in result.tables:
        typer.echo(f"  {copied.table}: {copied.home} = {result.server.get(copied.table)}")
    moved = result.blobs
    if moved is None:
        typer.echo(f"  blobs: not moved (they stay at {result.blob_url})")
    else:
        there = moved.there + moved.extra
        typer.echo(f"  blobs: {moved.home} = {there} at {result.blob_url}, {moved.removed} removed")
    differences = result.differences()
    if differences:
        typer.echo(f"seek-sync: counts differ after copying: {'; '.join(differences)}", err=True)
        raise typer.Exit(1)
    from seek_sync.backend import open_inbox
    from seek_sync.driver import dagster_instance
    from seek_sync.partitions import recreate_hirer_partitions

    with dagster_instance() as instance, open_inbox(target) as inbox:  # the server's: keys copied
        added, present = recreate_hirer_partitions(instance, inbox, result.hirers)
    typer.echo(f"hirer partitions: {added} added, {present} there already")
    typer.echo("done: start the server backend's processes (seek-sync sync, the daemon) now")
