"""A purge, start to end: the hirers it touches held (serialised with their runs), then
tombstones, the warehouse rows (the DuckDB file rewritten, or the PostgreSQL tables vacuumed
full), the inbox rows (file scrubbed) and the blobs (local files or S3 objects).

Run from a Dagster op (`jobs.purge`): only run steps open the warehouse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from seek_sync.pipeline.stores import Stores
from seek_sync.runstate.leases import Leases
from seek_sync.runstate.tombstones import bury, erase, scrub
from seek_sync.store.purge import Found, Selector, delete, find


class PurgeBlocked(RuntimeError):
    """A hirer the purge touches stayed held by a live run past the wait."""


@dataclass
class PurgeReport:
    """What a purge removed: ids and counts only."""

    purge_id: str
    kind: str
    dry_run: bool
    hirer_ids: list[str]
    candidates: int
    profiles: int
    counts: dict[str, int] = field(default_factory=dict)
    blob_bytes: int = 0
    warehouse_bytes: int = 0


def hold(
    leases: Leases,
    hirer_ids: list[str],
    owner: str,
    wait_seconds: float,
    ended: Callable[[str], bool],
) -> None:
    """Claim every hirer for the purge, waiting while live runs hold them."""
    deadline, me, left = time.monotonic() + wait_seconds, leases.me(), list(hirer_ids)
    while left:
        taken = set(leases.claim(left, owner, me, ended=ended))
        left = [h for h in left if h not in taken]
        if left and time.monotonic() > deadline:
            leases.release(owner)
            raise PurgeBlocked(f"{len(left)} hirer(s) stayed held by a live run")
        if left:
            time.sleep(0.5)


def purge(
    stores: Stores,
    leases: Leases,
    selector: Selector,
    *,
    owner: str,
    reason: str | None = None,
    dry_run: bool = False,
    wait_seconds: float = 300.0,
    ended: Callable[[str], bool] = lambda _: False,
    tombstones: bool = True,
) -> PurgeReport:
    """Purge what `selector` names (or, `dry_run`, only count it and audit the count). Without
    `tombstones` none are left (a re-applied purge: its tombstones exist, with their times)."""
    with stores.warehouse.session() as db:
        hirers = find(db, selector).hirer_ids
    hold(leases, hirers, owner, wait_seconds, ended)
    try:
        stores.merge()  # a dead run's journaled rows first, so they are purged too
        blob_bytes = 0
        with stores.warehouse.exclusive(rewrite=not dry_run) as db:
            found = find(db, selector)
            hold(leases, [h for h in found.hirer_ids if h not in hirers], owner, 0.0, ended)
            purge_id = delete(db, found, reason=reason, dry_run=dry_run)
            if tombstones and not dry_run:  # before the inbox rows go: nothing new is stored
                _bury(stores, purge_id, found)
        found.counts.update(
            erase(
                stores.inbox,
                hirer_id=found.hirer_ids[0] if found.whole_hirer else None,
                profile_ids=found.profile_ids,
                candidate_ids=found.candidate_ids,
                dry_run=dry_run,
            )
        )
        if not dry_run:
            scrub(stores.inbox)
            blob_bytes = _delete_blobs(stores, found)
        return PurgeReport(
            purge_id,
            found.kind,
            dry_run,
            found.hirer_ids,
            len(found.candidate_ids),
            len(found.profile_ids),
            found.counts,
            blob_bytes,
            stores.warehouse.size_bytes(),
        )
    finally:
        leases.release(owner)


def _bury(stores: Stores, purge_id: str, found: Found) -> None:
    bury(
        stores.inbox,
        purge_id,
        hirer_id=found.hirer_ids[0] if found.whole_hirer else None,
        candidate_ids=found.candidate_ids,
        profile_ids=found.profile_ids,
    )


def _delete_blobs(stores: Stores, found: Found) -> int:
    """The purged files no other attachment shares, and the hirers' temp files; bytes freed."""
    freed = sum(stores.blobs.delete(stores.blobs.key_for(h, sha)) for h, sha in found.blobs)
    for hirer_id in found.hirer_ids:
        if found.whole_hirer:
            stores.blobs.delete_hirer(hirer_id)  # its prefix, temp files included
        else:
            stores.blobs.sweep_temp(hirer_id)
    return freed
