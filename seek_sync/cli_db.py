"""`seek-sync db upgrade|status`: the schema of every component of the chosen backend.

A shared server's schema changes only here, each component under the database's lock, so two
upgrades at once apply each migration once (the second finds it applied and says so). Embedded
files upgrade themselves when opened; this works on them too.
"""

from __future__ import annotations

from typing import Annotated

import typer

from seek_sync.settings import SettingsError, WarehouseFields, load

app = typer.Typer(help="The state backend's schema: upgrade it, or show its versions.")


def _settings() -> WarehouseFields:
    try:
        return load(WarehouseFields)
    except SettingsError as error:
        typer.echo(f"seek-sync: {error}", err=True)
        raise typer.Exit(2) from None


@app.command()
def upgrade() -> None:
    """Apply every missing migration, component by component, under the database's lock."""
    from seek_sync.backend import components

    settings = _settings()
    for component in components(settings):
        applied = component.upgrade()
        if applied:
            versions = ", ".join(str(v) for v in applied)
            typer.echo(f"{component.name}: applied version(s) {versions}")
        else:
            typer.echo(f"{component.name}: up to date (version {component.latest})")


@app.command()
def status(
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when a component is not up to date.")
    ] = False,
) -> None:
    """Each component's schema version against the one this release needs."""
    from seek_sync.backend import components, is_server

    settings = _settings()
    behind = 0
    typer.echo(f"backend: {'server' if is_server(settings) else 'embedded'}")
    for component in components(settings):
        have = component.current()
        state = "up to date" if have == component.latest else f"needs {component.latest}"
        behind += have != component.latest
        typer.echo(f"{component.name}: version {have} ({state})")
    if check and behind:
        raise typer.Exit(1)
