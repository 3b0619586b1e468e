"""The `hold` fault: park each matching request until the test releases them all, or `delay` passes.

A test that needs several client processes to reach one call at the same moment (whatever their
start-up and CPU share on a loaded machine) holds that call: each request is parked, and who is
parked (by the caller's pid) is readable at `GET /_sandbox/faults/held`; `POST
/_sandbox/faults/release` drops the hold rules and lets every parked request go on at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

from aiohttp import web
from pydantic import BaseModel

from seek_sync.sandbox.kill import peer_pid


class HeldNow(BaseModel):
    """Body of `GET /_sandbox/faults/held`."""

    parked: int  # requests parked right now
    callers: list[int]  # the pids they came from (found from the connection's peer)
    released: int  # requests let go so far (by a release or their `delay`)


class Held:
    """The parked requests of one sandbox; used on the server's event loop only."""

    def __init__(self) -> None:
        self.callers: Counter[int | None] = Counter()
        self.released = 0
        self._go: asyncio.Event | None = None

    async def park(self, request: web.Request, seconds: float) -> None:
        go = self._go = self._go or asyncio.Event()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        pid = await asyncio.to_thread(peer_pid, str(peer[0]), int(peer[1])) if peer else None
        self.callers[pid] += 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(go.wait(), seconds)
        finally:
            self.callers[pid] -= 1
            self.released += 1

    def release(self) -> int:
        """Let every parked request go on; how many there were."""
        parked = self.now().parked
        if self._go is not None:
            self._go.set()
            self._go = None
        return parked

    def now(self) -> HeldNow:
        return HeldNow(
            parked=sum(self.callers.values()),
            callers=sorted(p for p, n in self.callers.items() if n > 0 and p is not None),
            released=self.released,
        )
