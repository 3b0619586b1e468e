"""Progress on the command line: rich in a terminal, plain lines otherwise (`seek_sync.progress`).

Unit tests of both modes (rich on a recorded, forced-terminal console), and `seek-sync sync
--loop` run for real against a local stack: under a pseudo-terminal it draws the rich status, into
pipes it prints only today's plain tick lines.
"""

from __future__ import annotations

import io
import logging
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from seek_sync.driver import TickOutcome
from seek_sync.local_stack import PROJECT_ROOT, local_stack
from seek_sync.progress import MODE_ENV, CommandProgress, LoopStatus, wants_rich
from seek_sync.sandbox.config import SandboxConfig

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
TICK_LINE = re.compile(
    r"hirers added: \d+; hirers synced: \d+; runs: \d+ ok, \d+ failed, \d+ already done; "
    r"\d+\.\d\d s(; .+)?"
)
TERMINAL_ENV = ("TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR", "NO_COLOR", MODE_ENV)


def recorded() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, force_interactive=True, width=100)
    return console, out


def test_plain_mode_prints_lines_exactly_and_no_display(capsys: pytest.CaptureFixture[str]) -> None:
    with CommandProgress(mode="plain") as progress:
        assert not progress.rich
        progress.status("never shown", (1, 2))
        progress.line("hirers added: 0; hirers synced: 0")
        progress.line("failed: run-1", err=True)
        progress.step("purge run 1: STARTED")
    captured = capsys.readouterr()
    assert captured.out == "hirers added: 0; hirers synced: 0\n"
    assert captured.err == "failed: run-1\npurge run 1: STARTED\n"


def test_rich_mode_draws_a_spinner_bar_and_lines_above_it() -> None:
    console, out = recorded()
    logger = logging.getLogger("seek_sync.test_progress")
    handler = logging.StreamHandler(sys.stderr)  # made before the display, like configure_logging
    logger.addHandler(handler)
    try:
        with CommandProgress(console=console) as progress:
            assert progress.rich
            progress.status("applications fetched", (3, 12))
            time.sleep(0.3)  # a few refreshes
            progress.line("a line above the display", err=True)
            logger.warning("a log record through the display")
            progress.step("purge run 1: STARTED")
            time.sleep(0.3)
    finally:
        logger.removeHandler(handler)
    assert handler.stream is sys.stderr  # given back
    text = out.getvalue()
    assert "\x1b[" in text  # cursor and colour control: a live display
    assert "3/12" in text and "applications fetched" in text and "━" in text
    assert "a line above the display" in text
    assert "a log record through the display" in text
    assert "purge run 1: STARTED" in text


def test_a_callable_status_is_read_at_each_refresh() -> None:
    console, out = recorded()
    ticks = iter(range(1000))
    with CommandProgress(console=console) as progress:
        progress.status(lambda: f"countdown {next(ticks)}")
        time.sleep(0.5)
    assert len(set(re.findall(r"countdown \d+", out.getvalue()))) >= 2


def test_a_failing_status_shows_the_last_good_frame() -> None:
    console, out = recorded()
    reads = iter([(1, 2)])

    def counts() -> tuple[int, int]:
        for read in reads:
            return read
        raise RuntimeError("dictionary changed size during iteration")  # a racing read

    with CommandProgress(console=console) as progress:
        progress.status("ok text", counts)
        time.sleep(0.3)
    assert "ok text" in out.getvalue() and "1/2" in out.getvalue()


def test_the_mode_is_forced_by_the_environment_and_plain_when_piped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MODE_ENV, "rich")
    assert wants_rich() and CommandProgress().rich
    monkeypatch.setenv(MODE_ENV, "plain")
    assert not wants_rich()
    monkeypatch.delenv(MODE_ENV)
    assert not wants_rich()  # pytest's captured stdout is no terminal
    assert wants_rich("rich") and not wants_rich("plain")


def test_the_loop_status_counts_ticks_and_counts_down_when_idle() -> None:
    status = LoopStatus(30.0)
    assert status.text().endswith("ticking")
    status.add(TickOutcome(hirers=3, runs_succeeded=["a"], runs_failed=["b"], seconds=1.5))
    assert status.text() == (
        "tick 1 · hirers synced 3 · runs 1 ok, 1 failed · last 1.50 s · ticking"
    )
    status.add(TickOutcome(skipped_reason="no hirer due", seconds=0.05))
    assert re.fullmatch(
        r"tick 2 · hirers synced 3 · runs 1 ok, 1 failed · last 0.05 s · next in (30|29) s",
        status.text(),
    )


# --- a real command ----------------------------------------------------------------------------


def _command_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TERMINAL_ENV}
    return env | {"TERM": "xterm-256color", "COLUMNS": "160"}


def _until(read: Callable[[], bytes], done: Callable[[bytes], bool], seconds: float) -> bytes:
    got, deadline = b"", time.monotonic() + seconds
    while not done(got) and time.monotonic() < deadline:
        got += read()
    return got


def _read_fd(fd: int) -> bytes:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the terminal's other end closed
        return b""


SYNC_LOOP = [sys.executable, "-m", "seek_sync.cli", "sync", "--loop", "--interval", "0.5"]


def test_sync_loop_is_rich_in_a_terminal_and_plain_lines_in_a_pipe(tmp_path: Path) -> None:
    config = SandboxConfig(applications=8, hirers=2, edge_cases=False)
    with local_stack(tmp_path / "home", config):
        # In a pseudo-terminal: stdout and stderr both a terminal.
        master, slave = os.openpty()
        process = subprocess.Popen(
            SYNC_LOOP,
            cwd=PROJECT_ROOT,
            env=_command_env(),
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
        )
        os.close(slave)
        try:
            shown = _until(lambda: _read_fd(master), lambda got: b"next in" in got, 90)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=60) == 0
            shown += _until(lambda: _read_fd(master), lambda got: False, 0.5)
        finally:
            if process.poll() is None:
                process.kill()
            os.close(master)
        text = ANSI.sub(b"", shown).decode(errors="replace")
        assert ANSI.search(shown), text[-2000:]  # drawn, not printed
        assert re.search(r"tick \d+ · hirers synced [1-9]\d* · runs [1-9]\d* ok", text), text
        assert "next in" in text
        assert "hirers added: " in text  # a tick that ran something stays as a line above

        # Into pipes: only today's plain lines, one per tick, nothing drawn.
        process = subprocess.Popen(
            SYNC_LOOP,
            cwd=PROJECT_ROOT,
            env=_command_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert process.stdout is not None
            first = _until(lambda: _read_fd(process.stdout.fileno()), lambda g: b"\n" in g, 90)
            assert first, "no tick line"
            time.sleep(0.8)  # another idle tick
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, err[-2000:]
        lines = (first + out).decode().splitlines()
        assert len(lines) >= 2 and all(TICK_LINE.fullmatch(line) for line in lines), lines
        assert not ANSI.search(first + out) and not ANSI.search(err)
        assert "tick 1 ·" not in (first + out + err).decode()  # no status display
