"""The proxy as its own process (`seek-sync proxy serve --port 0`), for the demo and the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from seek_sync.child_signals import default_stop_signals


def proxy_environment(values: dict[str, str]) -> dict[str, str]:
    """This process's environment without any `SEEK_SYNC_` variable, plus the proxy's own:
    nothing of the run's settings reaches the proxy."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SEEK_SYNC_")}
    return base | values


@contextmanager
def proxy_process(
    values: dict[str, str], *, module: str = "seek_sync.cli", stderr: IO[bytes] | None = None
) -> Iterator[tuple[int, str]]:
    """The proxy (or `module`, a variant of it) with `values` as its `SEEK_SYNC_*` settings;
    yields its pid and base URL once it printed its start-up line; stopped on leaving."""
    command = [sys.executable, "-m", module, "proxy", "serve", "--port", "0"]
    process = subprocess.Popen(
        command,
        env=proxy_environment(values),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if stderr is None else stderr,
        text=True,
        preexec_fn=default_stop_signals,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            raise RuntimeError("the proxy exited before listening")
        yield process.pid, json.loads(line)["proxy_url"]
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def proxy_if(values: dict[str, str] | None) -> Iterator[dict[str, str]]:
    """The proxy as its own process when given its settings; the run setting pointing at it."""
    if values is None:
        yield {}
        return
    with proxy_process(values) as (_, url):
        yield {"SEEK_SYNC_PROXY_PUBLIC_URL": url}
