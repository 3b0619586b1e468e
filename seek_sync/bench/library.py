"""The benchmark's library path: the pipeline entry points the assets call, without Dagster.

`python -m seek_sync.bench.library` polls SEEK into the inbox and hands every due hirer to one
`HirerRunner` (one SEEK client and token, one ATS client, the same per-process limits as a run
step), again and again, until stopped. It is the floor the Dagster path is measured against.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from seek_sync.ats.targets import TargetMap
from seek_sync.backend import open_blobs, open_inbox, open_warehouse
from seek_sync.pipeline.hirer_run import HirerRunner
from seek_sync.pipeline.hirers import removed_hirers
from seek_sync.pipeline.stores import Stores
from seek_sync.poller import poll
from seek_sync.settings import Settings, load_settings


def open_stores(settings: Settings) -> tuple[Stores, TargetMap | None]:
    """What a run step opens: the stores (blobs refused for hirers on demand) and the targets."""
    path = settings.hirer_targets_path
    targets = TargetMap.load(Path(path)) if path else None
    refused = targets.on_demand() if targets else frozenset()
    blobs = open_blobs(settings, refused=refused)
    return Stores(open_inbox(settings), open_warehouse(settings), blobs), targets


async def run_forever(interval_seconds: float) -> None:
    settings = load_settings()
    stores, targets = open_stores(settings)
    inbox = stores.inbox
    async with HirerRunner.open(settings, stores, targets) as runner:
        while True:
            await poll(runner.seek, inbox, budget_seconds=settings.sensor_poll_budget_seconds)
            due = [d.hirer_id for d in runner.ledger.due(exclude=removed_hirers(inbox))]
            if due:
                await runner.sync_hirers(due)
            else:
                await asyncio.sleep(interval_seconds)


if __name__ == "__main__":
    asyncio.run(run_forever(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0))
