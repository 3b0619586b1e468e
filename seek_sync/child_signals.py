"""The processes seek-sync starts begin with SIGINT and SIGTERM at their defaults.

An ignored signal stays ignored across exec, and a non-interactive shell starts its background
jobs with SIGINT ignored. Dagster turns that into an ignored SIGTERM: its CLIs at start, and any
process each time it runs user code in its main thread, set SIGTERM to whatever SIGINT's handler
is (`dagster._utils.interrupts.setup_interrupt_handlers`, "for k8s"). So a `seek-sync` or pytest
process started in the background ignores SIGTERM once it has run Dagster code, and so does every
process it starts afterwards: a cluster's daemon, webserver and code server, a test's sandbox,
outlived `cluster down`'s SIGTERM and had to be killed. `preexec_fn=default_stop_signals` puts
both back in the child, before it execs (a Python child then installs its own Ctrl-C handler).
`stop_child` ends such a child: SIGTERM, then SIGKILL once its grace has passed.
"""

from __future__ import annotations

import signal
import subprocess
from typing import Any


def default_stop_signals() -> None:
    """In a child between fork and exec: SIGINT and SIGTERM at their default actions."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def stop_child(process: subprocess.Popen[Any], grace: float) -> None:
    """SIGTERM `process`, wait up to `grace` seconds, then SIGKILL it; it is reaped either way."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)
