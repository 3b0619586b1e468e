"""Crash tests as production sees them: the sandbox and the receiver run as their own processes,
the sandbox SIGKILLs a real `seek-sync` process at chosen calls (after the call's effect, before
its response: the fake holds what the client never heard of), one process kills itself inside a
warehouse merge; then ticks run to settled and everything is counted at the fakes."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from seek_sync.process_stack import ProcessStack, process_stack
from tests.dagster.crash_helpers import (
    KILL_POINTS,
    MERGE,
    Stopping,
    audit,
    drive_with_kills,
    leftovers,
    sync_until_settled,
)

WORLD = ("--applications", "30", "--hirers", "4", "--seed", "11", "--no-edge-cases")


def one_tick(stack: ProcessStack):  # type: ignore[no-untyped-def]
    return lambda env: [stack.seek_sync("sync", extra_env=env)]


def two_at_once(stack: ProcessStack):  # type: ignore[no-untyped-def]
    """Both get the merge kill: whichever wins the hirers does the work and dies merging it."""
    return lambda env: [stack.seek_sync("sync", extra_env=env) for _ in range(2)]


def a_loop(stack: ProcessStack):  # type: ignore[no-untyped-def]
    return lambda env: [stack.seek_sync("sync", "--loop", "--interval", "0.5", extra_env=env)]


@pytest.mark.parametrize("mode", ["one_tick", "two_at_once", "loop"])
def test_kills_at_the_fakes_lose_nothing_and_send_nothing_twice(tmp_path: Path, mode: str) -> None:
    started = time.monotonic()
    with process_stack(tmp_path / "home", *WORLD) as stack:
        start = {"one_tick": one_tick, "two_at_once": two_at_once, "loop": a_loop}[mode](stack)
        if mode == "loop":
            start = _loop_until_killed(stack, start)
        killed = drive_with_kills(stack, start)
        assert set(killed.fired) == {*KILL_POINTS, MERGE}, killed
        assert -9 in killed.exits
        assert killed.errors == []  # no process failed for any other reason
        ticks = sync_until_settled(stack)
        result = audit(stack)
        assert result.problems == []
        assert result.counts["onderwijsregio"] > 0 and result.counts["kombo"] > 0
        assert leftovers(stack) == []
    print(
        f"\n{mode}: {killed.attempts} killed attempts, {ticks} ticks to settle, "
        f"{result.counts}, {time.monotonic() - started:.0f} s"
    )


def _loop_until_killed(stack: ProcessStack, start):  # type: ignore[no-untyped-def]
    """A `sync --loop` runs until it is killed; if no kill point fires within a while (nothing
    left that reaches one), it is stopped so the test can go on."""

    def run(env: dict[str, str]) -> list[subprocess.Popen[str]]:
        [process] = start(env)
        return [Stopping(process)]  # type: ignore[list-item]

    return run
