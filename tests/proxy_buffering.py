"""`python -m tests.proxy_buffering proxy serve ...`: the `seek-sync` command with a proxy that
reads SEEK's whole body into memory before answering, the negative control of the memory test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx

from seek_sync.proxy import app as proxy_app


async def _buffered(upstream: httpx.Response, stack: AsyncExitStack) -> AsyncIterator[bytes]:
    try:
        body = await upstream.aread()
    finally:
        await stack.aclose()
    yield body


proxy_app._relay = _buffered  # type: ignore[assignment]

if __name__ == "__main__":
    from seek_sync.cli import app

    app()
