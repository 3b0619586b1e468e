"""Purge tombstones applied again, after a restore brought back what they erased.

A backup older than a purge holds the purged person. Restoring it, putting back the tombstones
saved since (`seek-sync tombstones export`, `runstate.tombstones.restore`) and running `reapply`
removes again exactly what each tombstone covers (`store/tombstoned.py`), everywhere a purge does
(warehouse, inbox, blobs), with the purge's own code, audited. Idempotent: when nothing covered is
left it purges nothing (and rewrites no table).

In order: the journal merged (a restored journal's rows are purged too); a hirer tombstone whose
hirer has no later application purges the hirer whole, as it did; likewise a candidate (every
hirer, their ATS records too); then the other covered applications (profile tombstones, and the
older applications of a hirer or candidate who came back), in batches of profiles; last, the
inbox events a tombstone covers. Nothing is buried again: each tombstone keeps its purge's time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from seek_sync.pipeline.purge import hold, purge
from seek_sync.pipeline.stores import Stores
from seek_sync.runstate.leases import Leases
from seek_sync.runstate.tombstones import erase_buried, scrub, tombstones
from seek_sync.store.purge import Selector
from seek_sync.store.tombstoned import applications, covered

REASON = "tombstones re-applied after a restore"
BATCH = 20_000  # applications per purge (the inbox's deletion binds one SQLite variable each)


@dataclass
class ReapplyReport:
    """What re-applying the tombstones removed: ids and counts only."""

    dry_run: bool
    tombstones: int = 0
    purge_ids: list[str] = field(default_factory=list)
    hirers: list[str] = field(default_factory=list)  # purged whole
    touched: list[str] = field(default_factory=list)  # hirers that lost something, kept
    candidates: int = 0  # purged whole
    profiles: int = 0  # applications purged one by one
    inbox_events: int = 0
    blob_bytes: int = 0


@dataclass(frozen=True)
class _Plan:
    hirers: list[str]
    people: list[str]
    profiles: list[str]


def _plan(stores: Stores, marks: dict[str, dict[str, str]]) -> _Plan:
    """What the tombstones cover in the warehouse now: whole hirers, whole candidates, and the
    other covered applications."""
    with stores.warehouse.session() as db:
        of_hirers = applications(db, "hirer_id", list(marks["hirer"]))
        of_people = applications(db, "person", list(marks["candidate"]))
        of_profiles = applications(db, "profile_id", list(marks["profile"]))
    singles: set[str] = set()
    of_hirers["hit"] = covered(of_hirers, "hirer_id", marks["hirer"])
    whole = of_hirers.groupby("hirer_id")["hit"].all()
    hirers = sorted(str(h) for h in whole.index[whole])
    singles |= set(of_hirers.loc[of_hirers["hit"] & ~of_hirers["hirer_id"].isin(hirers)].profile_id)
    of_people = of_people[~of_people["hirer_id"].isin(hirers)].copy()
    of_people["hit"] = covered(of_people, "person", marks["candidate"])
    whole = of_people.groupby("person")["hit"].all()
    people = sorted(str(p) for p in whole.index[whole])
    singles |= set(of_people.loc[of_people["hit"] & ~of_people["person"].isin(people)].profile_id)
    hit = of_profiles[covered(of_profiles, "profile_id", marks["profile"])]
    singles |= set(hit.profile_id)
    every = pd.concat([of_hirers, of_people, of_profiles], ignore_index=True)
    gone = set(every.loc[every["hirer_id"].isin(hirers) | every["person"].isin(people)].profile_id)
    return _Plan(hirers, people, sorted(singles - gone))


def reapply(
    stores: Stores,
    leases: Leases,
    *,
    owner: str,
    dry_run: bool = False,
    ended: Callable[[str], bool] = lambda _: False,
    wait_seconds: float = 300.0,
) -> ReapplyReport:
    """Every tombstone's purge applied to the current state (or, `dry_run`, counted)."""
    marks: dict[str, dict[str, str]] = {"hirer": {}, "candidate": {}, "profile": {}}
    for row in tombstones(stores.inbox):
        marks[row["kind"]][row["id"]] = row["purged_at"]
    report = ReapplyReport(dry_run, sum(len(m) for m in marks.values()))
    if not dry_run:
        stores.merge()  # a restored journal's rows, so they are found and purged too
    plan = _plan(stores, marks)
    touched: set[str] = set()

    def run(selector: Selector) -> int:
        done = purge(
            stores,
            leases,
            selector,
            owner=owner,
            reason=REASON,
            dry_run=dry_run,
            wait_seconds=wait_seconds,
            ended=ended,
            tombstones=False,
        )
        report.purge_ids.append(done.purge_id)
        report.blob_bytes += done.blob_bytes
        touched.update(done.hirer_ids)
        return done.profiles

    for hirer_id in plan.hirers:
        run(Selector(hirer_id=hirer_id))
    report.hirers = plan.hirers
    for person in plan.people:
        run(Selector(candidate_id=person))
    report.candidates = len(plan.people)
    for start in range(0, len(plan.profiles), BATCH):
        report.profiles += run(Selector(profile_ids=tuple(plan.profiles[start : start + BATCH])))
    report.inbox_events = _erase_inbox(stores, leases, owner, dry_run, ended, wait_seconds)
    report.touched = sorted(touched - set(plan.hirers))
    return report


def _erase_inbox(
    stores: Stores,
    leases: Leases,
    owner: str,
    dry_run: bool,
    ended: Callable[[str], bool],
    wait_seconds: float,
) -> int:
    """The inbox events a tombstone covers, deleted while their hirers are held; how many."""
    found = erase_buried(stores.inbox, dry_run=True)
    if dry_run or not found:
        return sum(found.values())
    hold(leases, sorted(found), owner, wait_seconds, ended)
    try:
        erased = erase_buried(stores.inbox)
        scrub(stores.inbox)
    finally:
        leases.release(owner)
    return sum(erased.values())
