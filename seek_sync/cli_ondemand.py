"""Attachments on demand: `seek-sync browser-token` and `seek-sync proxy serve`.

Registered on the main `seek-sync` app (`cli.py`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from seek_sync.seek.browser_tokens import DOWNLOAD_SCOPE

proxy_app = typer.Typer(
    no_args_is_help=True, help="The attachment proxy: streams SEEK files to an ATS, no storage."
)


def browser_token(
    hirer: Annotated[str, typer.Option("--hirer", help="The SEEK hirer id.")],
    user: Annotated[str, typer.Option("--user", help="Your user's opaque id (no personal data).")],
    scope: Annotated[str, typer.Option("--scope", help="Space-separated scopes.")] = DOWNLOAD_SCOPE,
) -> None:
    """Print a SEEK browser token for one hirer and user (for a page that opens attachments)."""
    import asyncio

    from seek_sync.cli import _fail, _load
    from seek_sync.seek.client import SeekClient, http_client
    from seek_sync.seek.errors import SeekError
    from seek_sync.settings import SeekClientSettings

    settings = _load(SeekClientSettings)

    async def fetch() -> str:
        async with http_client(settings) as http:
            grant = await SeekClient(http, settings).browser_tokens.token(hirer, user, scope)
            return grant.access_token

    try:
        typer.echo(asyncio.run(fetch()))
    except (SeekError, ValueError) as error:
        _fail(str(error))


@proxy_app.command("serve")
def proxy_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8702,
) -> None:
    """Serve signed attachment URLs from SEEK (reads the proxy's settings only)."""
    from seek_sync.cli import _load
    from seek_sync.proxy.app import serve
    from seek_sync.proxy.settings import ProxySettings

    serve(_load(ProxySettings), host, port)
