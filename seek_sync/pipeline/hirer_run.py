"""Passes over hirers: every stage in order, each stage over all of a run's hirers at once.

`HirerRunner` is what a run step (Dagster's batch op) and the benchmark's library path both call.
It holds the process's clients (`pipeline.clients`: one SEEK client, every hirer's ATS target),
claims its hirers' leases so no other run works them at once, merges what a dead run journaled
before anything else, caps the items each stage takes per hirer, and records every claimed
hirer in the ledger (consumed input, what is still owed, when it is due). No Dagster here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from seek_sync.ats.targets import TargetMap
from seek_sync.db.database import Tx
from seek_sync.pipeline.ats_push import sync_ats
from seek_sync.pipeline.clients import Clients, open_clients
from seek_sync.pipeline.events import sync_events
from seek_sync.pipeline.files import sync_files
from seek_sync.pipeline.owed import owed_by_hirer
from seek_sync.pipeline.profiles import sync_manifest, sync_profiles
from seek_sync.pipeline.report import StageReport
from seek_sync.pipeline.stores import Stores
from seek_sync.runstate.leases import leases_for
from seek_sync.runstate.ledger import Backoff, HirerWork, Ledger, Owed
from seek_sync.settings import Settings


@dataclass
class HirerPass:
    """One hirer's pass in a run: its stage reports and its ledger row afterwards."""

    hirer_id: str
    reports: list[StageReport] = field(default_factory=list)
    work: HirerWork | None = None
    owed: Owed | None = None
    error: str | None = None

    @property
    def changed(self) -> bool:
        return any(r.changed for r in self.reports)


class HirerRunner:
    """Syncs hirers in this process; build it with `HirerRunner.open`."""

    def __init__(self, settings: Settings, stores: Stores, clients: Clients) -> None:
        self.settings, self.stores = settings, stores
        self.seek, self.targets, self.on_demand = clients.seek, clients.targets, clients.on_demand
        self.ledger = Ledger(stores.inbox)
        self.leases = leases_for(settings, stores.inbox)
        self.backoff = Backoff(settings.work_retry_base_seconds, settings.work_retry_max_seconds)

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, stores: Stores, target_map: TargetMap | None
    ) -> AsyncIterator[HirerRunner]:
        async with open_clients(settings, stores, target_map) as clients:
            yield cls(settings, stores, clients)

    async def _stages(self, hirer_ids: list[str], upto: dict[str, int]) -> dict[str, HirerPass]:
        """Every stage over all the hirers at once: one short warehouse read and one merge per
        stage, however many hirers; each stage takes at most the per-run cap per hirer."""
        cap, stores = self.settings.hirer_items_per_run, self.stores
        passes = {h: HirerPass(h) for h in hirer_ids}

        def add(reports: dict[str, StageReport]) -> None:
            for hirer_id, report in reports.items():
                passes[hirer_id].reports.append(report)

        add(sync_events(stores.inbox, stores.warehouse, hirer_ids, upto=upto))
        add(await sync_profiles(self.seek, stores, hirer_ids, limit=cap))
        add(sync_manifest(stores.warehouse, hirer_ids))
        add(await sync_files(self.seek, stores, hirer_ids, limit=cap))
        targets = self.targets.for_hirers(hirer_ids)
        pushed, errors = await sync_ats(
            targets,
            stores,
            limit=cap,
            on_demand=self.on_demand,
            callback_wait=self.settings.ats_callback_wait_seconds,
        )
        for hirer_id, (candidates, uploads) in pushed.items():
            passes[hirer_id].reports += [candidates, uploads]
        for hirer_id, error in errors.items():
            passes[hirer_id].error = error
        owed = owed_by_hirer(stores.warehouse, hirer_ids, with_target=list(targets))
        for hirer_id, hirer_pass in passes.items():
            hirer_pass.owed = owed[hirer_id]
        return passes

    async def sync_hirers(
        self,
        hirer_ids: Sequence[str],
        run_id: str | None = None,
        *,
        reserved_as: str = "",
        ended: Callable[[str], bool] | None = None,
    ) -> tuple[list[HirerPass], list[str]]:
        """Claim and sync `hirer_ids` together; returns each claimed hirer's pass and the hirers
        skipped because another live run holds them. Every claimed hirer gets a ledger row.
        `reserved_as` and `ended`: as `Leases.claim` takes them."""
        run_id = run_id or uuid.uuid4().hex
        claimed = self.leases.claim_run(hirer_ids, run_id, reserved_as=reserved_as, ended=ended)
        skipped = [h for h in hirer_ids if h not in set(claimed)]
        if not claimed:
            return [], skipped
        events = self.ledger.marks("events", claimed)
        callbacks = self.ledger.marks("callbacks", claimed)

        def fence(conn: Tx, hirer_ids: Iterable[str]) -> None:
            self.leases.fence(conn, run_id, hirer_ids)

        self.stores.journal.fence = fence  # from here on, a write needs its hirer still held
        try:
            with self.leases.heartbeating(run_id):
                self.stores.merge()  # whatever a dead run journaled, before anything else
                try:
                    passes = await self._stages(claimed, events)
                except Exception as failure:  # a stage failed for all: every hirer stays owed
                    error = f"{type(failure).__name__}: {failure}"[:500]
                    passes = {h: HirerPass(h, error=error) for h in claimed}
                for hirer_id, hirer_pass in passes.items():
                    work = self.ledger.row(hirer_id)
                    work.events_seq = events.get(hirer_id, 0)
                    work.callbacks_seq = callbacks.get(hirer_id, 0)
                    hirer_pass.work = self.ledger.finish(
                        work,
                        run_id=run_id,
                        owed=None if hirer_pass.error else hirer_pass.owed,
                        error=hirer_pass.error,
                        confirm_timeout=self.settings.ats_confirm_timeout_seconds,
                        backoff=self.backoff,
                        fence=fence,
                    )
        finally:
            self.stores.journal.fence = None
            self.leases.release(run_id)  # the owner row stays until the run has ended
        return list(passes.values()), skipped
