"""The trickle benchmark's floor: the library path run the moment the inbox moves.

`python -m seek_sync.bench.trickle_floor` opens what a run step opens (one `HirerRunner`: one SEEK
client, the ATS targets, the stores), polls SEEK at start and then as often as `sync --loop`
does (`SEEK_SYNC_SYNC_INTERVAL_SECONDS`), and reads the inbox's last event and callback seqs every
`WATCH_SECONDS`: when either moved (a webhook or a callback stored by the receiver) or a hirer's
due time came, every due hirer is synced at once, with no scheduler, sensor or run in between.
What the deployed paths are measured against. No Dagster here.
"""

from __future__ import annotations

import asyncio
import sys
import time

from seek_sync.bench.library import open_stores
from seek_sync.pipeline.hirer_run import HirerRunner
from seek_sync.pipeline.hirers import removed_hirers
from seek_sync.poller import poll
from seek_sync.runstate.wake import Marks, marks
from seek_sync.settings import load_settings

WATCH_SECONDS = 0.05  # between two reads of the inbox's seqs
DUE_CHECK_SECONDS = 1.0  # due times (retries, confirmation timeouts) are looked at this often


async def run_forever() -> None:
    settings = load_settings()
    stores, targets = open_stores(settings)
    inbox = stores.inbox
    async with HirerRunner.open(settings, stores, targets) as runner:
        print("ready", flush=True)
        next_poll = next_check = 0.0
        seen: Marks | None = None
        while True:
            now = time.monotonic()
            if now >= next_poll:
                await poll(runner.seek, inbox, budget_seconds=settings.sensor_poll_budget_seconds)
                next_poll = now + settings.sync_interval_seconds
            moved = marks(inbox)
            if moved == seen and now < next_check:
                await asyncio.sleep(WATCH_SECONDS)
                continue
            seen, next_check = moved, now + DUE_CHECK_SECONDS
            due = [d.hirer_id for d in runner.ledger.due(exclude=removed_hirers(inbox))]
            if due:
                await runner.sync_hirers(due)
                next_check = 0.0  # anything left (a cap, a callback meanwhile) at once


if __name__ == "__main__":
    try:
        asyncio.run(run_forever())
    except KeyboardInterrupt:
        sys.exit(0)
