"""Passes over hirers: every stage of one hirer in order, many hirers at once, one client each.

`HirerRunner` is what a run step (Dagster's batch op) and the benchmark's library path both call.
It owns one SEEK client (one HTTP pool, one partner token) and one ATS HTTP client per process,
claims its hirers' leases so no other run works them at once, merges what a dead run journaled
before anything else, caps the items each stage takes per hirer, and records every finished
hirer in the ledger (consumed input, what is still owed, when it is due). No Dagster here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from seek_sync.ats.base import AtsTarget
from seek_sync.ats.factory import build_target
from seek_sync.ats.targets import TargetMap
from seek_sync.inbox import Inbox
from seek_sync.leases import Leases
from seek_sync.ledger import Backoff, HirerWork, Ledger
from seek_sync.pipeline.ats_push import sync_ats
from seek_sync.pipeline.events import sync_events
from seek_sync.pipeline.files import sync_files
from seek_sync.pipeline.owed import owed_by_hirer
from seek_sync.pipeline.profiles import sync_manifest, sync_profiles
from seek_sync.pipeline.report import StageReport
from seek_sync.pipeline.stores import Stores
from seek_sync.processes import Holder
from seek_sync.seek.client import SeekClient, http_client
from seek_sync.settings import Settings
from seek_sync.store.signed_urls import SignedBlobSource


@dataclass
class HirerPass:
    """One hirer's pass in a run: its stage reports and its ledger row afterwards."""

    hirer_id: str
    reports: list[StageReport] = field(default_factory=list)
    work: HirerWork | None = None
    error: str | None = None

    @property
    def changed(self) -> bool:
        return any(r.new or r.updated or r.notes for r in self.reports)


def leases_for(settings: Settings, inbox: Inbox) -> Leases:
    return Leases(
        inbox,
        stale_after_seconds=settings.lease_stale_seconds,
        reservation_seconds=settings.lease_reservation_seconds,
    )


class HirerRunner:
    """Syncs hirers in this process; build it with `HirerRunner.open`."""

    def __init__(
        self,
        settings: Settings,
        stores: Stores,
        seek: SeekClient,
        ats_http: httpx.AsyncClient,
        targets: TargetMap | None,
    ) -> None:
        self.settings, self.stores, self.seek, self.targets = settings, stores, seek, targets
        self.ats_http = ats_http
        self.ledger = Ledger(stores.inbox)
        self.leases = leases_for(settings, stores.inbox)
        self.backoff = Backoff(settings.work_retry_base_seconds, settings.work_retry_max_seconds)
        self.kombo_writes = asyncio.Semaphore(settings.kombo_write_concurrency)
        secret = settings.blob_signing_secret
        self.blob_source = SignedBlobSource(
            stores.blobs,
            public_base=settings.receiver_public_url,
            secret=secret.get_secret_value().encode() if secret else None,
            ttl=settings.signed_url_ttl_seconds,
        )

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, stores: Stores, targets: TargetMap | None
    ) -> AsyncIterator[HirerRunner]:
        timeout = httpx.Timeout(
            settings.http_read_timeout_seconds, connect=settings.http_connect_timeout_seconds
        )
        async with http_client(settings) as seek_http, httpx.AsyncClient(timeout=timeout) as ats:
            yield cls(settings, stores, SeekClient(seek_http, settings), ats, targets)

    def target(self, hirer_id: str) -> AtsTarget | None:
        if self.targets is None or hirer_id not in self.targets.hirers:
            return None
        entry = self.targets.for_hirer(hirer_id)
        return build_target(
            hirer_id,
            entry,
            self.settings,
            self.ats_http,
            self.blob_source,
            kombo_writes=self.kombo_writes,
        )

    async def sync_hirer(self, hirer_id: str, run_id: str) -> HirerPass:
        """Every stage of one hirer, each taking at most the per-run cap of items."""
        cap, stores, done = self.settings.hirer_items_per_run, self.stores, HirerPass(hirer_id)
        work = self.ledger.row(hirer_id)
        work.events_seq = self.ledger.marks("events", [hirer_id]).get(hirer_id, 0)
        work.callbacks_seq = self.ledger.marks("callbacks", [hirer_id]).get(hirer_id, 0)
        owed, error = None, None
        try:
            reports = done.reports
            reports.append(
                sync_events(stores.inbox, stores.warehouse, hirer_id, upto_seq=work.events_seq)
            )
            reports.append(await sync_profiles(self.seek, stores, hirer_id, limit=cap))
            reports.append(sync_manifest(stores.warehouse, hirer_id))
            reports.append(await sync_files(self.seek, stores, hirer_id, limit=cap))
            target = self.target(hirer_id)
            if target is not None:
                reports.extend(await sync_ats(target, stores, hirer_id, limit=cap))
            mapped = [hirer_id] if target is not None else []
            owed = owed_by_hirer(stores.warehouse, [hirer_id], with_target=mapped)[hirer_id]
        except Exception as failure:  # one hirer's failure never stops the others
            error = f"{type(failure).__name__}: {failure}"[:500]
        done.error = error
        done.work = self.ledger.finish(
            work,
            run_id=run_id,
            owed=owed,
            error=error,
            confirm_timeout=self.settings.ats_confirm_timeout_seconds,
            backoff=self.backoff,
        )
        return done

    async def sync_hirers(
        self, hirer_ids: Sequence[str], run_id: str | None = None, *, reserved_as: str = ""
    ) -> tuple[list[HirerPass], list[str]]:
        """Claim and sync `hirer_ids` (several at once); returns the passes and the hirers
        skipped because another live run holds them."""
        run_id = run_id or uuid.uuid4().hex
        me = Holder.me()
        self.leases.own_run(run_id, me)
        claimed = self.leases.claim(hirer_ids, run_id, me, reserved_as=reserved_as)
        skipped = [h for h in hirer_ids if h not in set(claimed)]
        gate = asyncio.Semaphore(self.settings.hirer_concurrency)

        async def one(hirer_id: str) -> HirerPass:
            async with gate:
                return await self.sync_hirer(hirer_id, run_id)

        try:
            with self.leases.heartbeating(run_id):
                self.stores.merge()  # whatever a dead run journaled, before anything else
                passes = list(await asyncio.gather(*(one(h) for h in claimed)))
        finally:
            self.leases.release(run_id)  # the owner row stays until the run has ended
        return passes, skipped
