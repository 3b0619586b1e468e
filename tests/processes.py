"""Starting `seek-sync sandbox serve` as a real process, for tests that need it out of process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class SandboxProcess:
    process: subprocess.Popen[str]
    info: dict[str, Any]
    seconds_to_ready: float


@contextmanager
def sandbox_process(*options: str) -> Iterator[SandboxProcess]:
    """The sandbox CLI on a free port; yields once its JSON line is read, terminates after."""
    process = subprocess.Popen(
        [sys.executable, "-m", "seek_sync.cli", "sandbox", "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        started = time.perf_counter()
        line = process.stdout.readline()  # type: ignore[union-attr]
        yield SandboxProcess(process, json.loads(line), time.perf_counter() - started)
    finally:
        process.terminate()
        process.wait(timeout=10)
