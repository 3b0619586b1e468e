"""Progress on the command line: a rich display in a terminal, plain lines otherwise.

The one place that decides. Rich when stdout and stderr are both an interactive terminal (the
display is drawn on stderr, so stdout keeps only a command's own output); plain lines whenever
either is a pipe or a file, or `TERM=dumb`. `SEEK_SYNC_PROGRESS=rich|plain` (or `mode=`) forces
one. A command reports through one `CommandProgress`:

- `line(text)`: output in both modes, exactly as `typer.echo` prints it (in rich mode above the
  display);
- `step(text)`: a milestone: a plain line on stderr, or the display's text in rich mode;
- `status(text, counts)`: the display only (a spinner, the text, a bar when `counts` gives
  (done, total)); either may be a callable, evaluated at each refresh (a countdown, live counts).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

import typer
from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from seek_sync.driver import TickOutcome

MODE_ENV = "SEEK_SYNC_PROGRESS"  # auto (default), rich or plain
TextSource = str | Callable[[], str]
Counts = tuple[int, int] | Callable[[], tuple[int, int]] | None


def wants_rich(mode: str | None = None) -> bool:
    """Whether a command's progress is drawn with rich (else plain lines)."""
    mode = (mode or os.environ.get(MODE_ENV) or "auto").strip().lower()
    if mode in ("rich", "plain"):
        return mode == "rich"
    return sys.stdout.isatty() and Console(stderr=True).is_interactive


class _View:
    """What the live display shows; callables are evaluated at each refresh."""

    def __init__(self) -> None:
        self.spinner = Spinner("dots")
        self.text: TextSource = ""
        self.counts: Counts = None
        self._shown: tuple[str, tuple[int, int] | None] = ("", None)

    def __rich__(self) -> RenderableType:
        try:
            text = self.text() if callable(self.text) else self.text
            counts = self.counts() if callable(self.counts) else self.counts
            self._shown = (text, counts)
        except Exception:  # state read while it changes: show the last good frame
            text, counts = self._shown
        grid = Table.grid(padding=(0, 1))
        line = Text(text, no_wrap=True, overflow="ellipsis")  # one line, however narrow
        if counts is None:
            grid.add_row(self.spinner, line)
        else:
            done, total = counts
            bar = ProgressBar(total=max(total, 1), completed=min(done, total), width=16)
            grid.add_row(self.spinner, bar, Text(f"{done}/{total}", no_wrap=True), line)
        return grid


class CommandProgress:
    """One command's progress; a context manager (the rich display lives inside it)."""

    def __init__(
        self,
        *,
        mode: str | None = None,
        console: Console | None = None,
        transient: bool = False,
    ) -> None:
        self.rich = True if console is not None and mode is None else wants_rich(mode)
        forced = self.rich or None  # `SEEK_SYNC_PROGRESS=rich` draws on any stderr
        self.console = console or Console(
            stderr=True, force_terminal=forced, force_interactive=forced
        )
        self.transient = transient
        self._view = _View()
        self._live: Live | None = None
        self._stdout_tty = False
        self._rerouted: list[tuple[logging.StreamHandler[Any], IO[str]]] = []

    def __enter__(self) -> CommandProgress:
        if self.rich:
            self._stdout_tty = sys.stdout.isatty()
            self._live = Live(
                self._view,
                console=self.console,
                transient=self.transient,
                refresh_per_second=8,
                redirect_stdout=self._stdout_tty,  # a piped stdout stays the command's own
                redirect_stderr=True,
            )
            stderr = sys.stderr
            self._live.start()
            self._reroute_logging(stderr, sys.stderr)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            for handler, stream in self._rerouted:
                handler.setStream(stream)
            self._rerouted.clear()
            self._live.stop()
            self._live = None

    def _reroute_logging(self, old: IO[str], new: IO[str]) -> None:
        """Log handlers made before the display write through it, not across it."""
        if new is old:
            return
        loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]
        for logger in loggers:
            for handler in getattr(logger, "handlers", []):
                if isinstance(handler, logging.StreamHandler) and handler.stream is old:
                    self._rerouted.append((handler, old))
                    handler.setStream(new)

    def line(self, text: str, *, err: bool = False) -> None:
        """A line of the command's output, in both modes."""
        if self._live is not None and (err or self._stdout_tty):
            self._live.console.print(Text(text), soft_wrap=True)
        else:
            typer.echo(text, err=err)

    def step(self, text: str) -> None:
        """A milestone: a plain line on stderr, or the rich display's text."""
        if self.rich:
            self.status(text)
        else:
            typer.echo(text, err=True)

    def status(self, text: TextSource, counts: Counts = None) -> None:
        """What the rich display shows from now on (nothing in plain mode)."""
        self._view.text, self._view.counts = text, counts


class LoopStatus:
    """`sync --loop` so far, as the rich status line: totals, last tick, idle countdown."""

    def __init__(self, interval_seconds: float) -> None:
        self.interval_seconds = interval_seconds
        self.ticks = self.hirers = self.ok = self.failed = 0
        self.last_seconds: float | None = None
        self.next_at = time.monotonic()

    def add(self, outcome: TickOutcome) -> None:
        self.ticks += 1
        self.hirers += outcome.hirers
        self.ok += len(outcome.runs_succeeded)
        self.failed += len(outcome.runs_failed)
        self.last_seconds = outcome.seconds
        self.next_at = time.monotonic() + (0.0 if outcome.ran else self.interval_seconds)

    def text(self) -> str:
        left = self.next_at - time.monotonic()
        now = f"next in {math.ceil(left)} s" if left > 0 else "ticking"
        last = "" if self.last_seconds is None else f" · last {self.last_seconds:.2f} s"
        return (
            f"tick {self.ticks} · hirers synced {self.hirers} · "
            f"runs {self.ok} ok, {self.failed} failed{last} · {now}"
        )
