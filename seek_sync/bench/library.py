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
from seek_sync.pipeline.hirer_run import HirerRunner
from seek_sync.pipeline.hirers import removed_hirers
from seek_sync.pipeline.stores import Stores
from seek_sync.poller import poll
from seek_sync.runstate.inbox import Inbox
from seek_sync.settings import load_settings
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Warehouse


async def run_forever(interval_seconds: float) -> None:
    settings = load_settings()
    inbox = Inbox(settings.inbox_path)
    stores = Stores(inbox, Warehouse(settings.warehouse_path), BlobStore(settings.blob_url))
    path = settings.hirer_targets_path
    targets = TargetMap.load(Path(path)) if path else None
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
