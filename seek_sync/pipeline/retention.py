"""Retention, applied: files expired after their upload is confirmed, old applications purged,
removed hirers purged after their grace, consumed inbox rows trimmed. Ids and counts out.

Run from a Dagster op (`jobs.retention`): only run steps open the warehouse. Each step holds the
hirers it touches (their leases), so no run of theirs is in flight; a hirer a live run holds is
left for the next retention run. Nothing an unsettled upload still needs is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from seek_sync.pipeline.hirers import removed_hirers
from seek_sync.pipeline.purge import PurgeBlocked, purge
from seek_sync.pipeline.stores import Stores
from seek_sync.runstate.leases import Leases
from seek_sync.runstate.retention import trim
from seek_sync.settings import RetentionFields
from seek_sync.store.purge import Selector, find
from seek_sync.store.retention import (
    expire,
    files_due,
    profiles_due,
    purged_files,
    removed_hirers_due,
    unsettled_keys,
    unshared_blobs,
)

REASON_PROFILES, REASON_HIRER = "retention", "relationship removed"


@dataclass(frozen=True)
class Limits:
    """How long things are kept (days) and how many applications one run purges at most."""

    file_days_after_confirmed: float = 30.0
    profile_days: float = 180.0
    inbox_days: float = 30.0
    removed_hirer_grace_days: float = 30.0
    profiles_per_run: int = 20_000

    @classmethod
    def of(cls, settings: RetentionFields) -> Limits:
        return cls(
            settings.retention_file_days_after_confirmed,
            settings.retention_profile_days,
            settings.retention_inbox_days,
            settings.retention_removed_hirer_grace_days,
            settings.retention_profiles_per_run,
        )


@dataclass
class Removed:
    """What one hirer lost (or, in a dry run, would lose): counts only."""

    profiles_removed: int = 0
    profiles_held: int = 0  # due, but an unsettled upload still needs a file of theirs
    files_expired: int = 0  # blob deleted, row kept as `expired`
    files_purged: int = 0  # stored files that went with their application
    bytes_freed: int = 0
    inbox_events_removed: int = 0
    inbox_callbacks_removed: int = 0
    hirer_purged: bool = False

    @property
    def inbox_rows_removed(self) -> int:
        return self.inbox_events_removed + self.inbox_callbacks_removed

    @property
    def anything(self) -> bool:
        return bool(
            self.profiles_removed
            or self.files_expired
            or self.files_purged
            or self.bytes_freed
            or self.inbox_rows_removed
            or self.hirer_purged
        )


@dataclass
class RetentionReport:
    dry_run: bool
    hirers: dict[str, Removed] = field(default_factory=dict)
    purge_ids: list[str] = field(default_factory=list)
    profiles_left: int = 0  # due, over the per-run cap: the next run takes them
    skipped_hirers: list[str] = field(default_factory=list)  # held by a live run this time
    errors: list[str] = field(default_factory=list)

    def of(self, hirer_id: str) -> Removed:
        return self.hirers.setdefault(hirer_id, Removed())

    def totals(self) -> dict[str, int]:
        names = ("profiles_removed", "profiles_held", "files_expired", "files_purged")
        sums = {n: sum(getattr(r, n) for r in self.hirers.values()) for n in names}
        sums["bytes_freed"] = sum(r.bytes_freed for r in self.hirers.values())
        sums["inbox_rows_removed"] = sum(r.inbox_rows_removed for r in self.hirers.values())
        sums["hirers_purged"] = sum(r.hirer_purged for r in self.hirers.values())
        return sums


@dataclass
class _Run:
    """One retention run's inputs, shared by its steps."""

    stores: Stores
    leases: Leases
    owner: str
    dry_run: bool
    ended: Callable[[str], bool]
    report: RetentionReport
    expired: set[str] = field(default_factory=set)  # attachments the file step expired
    freed: set[tuple[str, str]] = field(default_factory=set)  # (hirer, sha256) it deleted

    def claim(self, hirer_ids: Sequence[str]) -> list[str]:
        """The hirers no live run holds, now held by this run (the others are skipped)."""
        taken = set(self.leases.claim(hirer_ids, self.owner, self.leases.me(), ended=self.ended))
        skipped = [h for h in hirer_ids if h not in taken]
        self.report.skipped_hirers = sorted({*self.report.skipped_hirers, *skipped})
        return [h for h in hirer_ids if h in taken]


def _days(days: float) -> timedelta:
    return timedelta(days=days)


def apply_retention(
    stores: Stores,
    leases: Leases,
    limits: Limits,
    targets: Mapping[str, str],
    *,
    owner: str,
    dry_run: bool = False,
    now: datetime | None = None,
    ended: Callable[[str], bool] = lambda _: False,
    wait_seconds: float = 300.0,
) -> RetentionReport:
    """Every retention step once; `targets` is each mapped hirer's target kind."""
    now = now or datetime.now(UTC)
    run = _Run(stores, leases, owner, dry_run, ended, RetentionReport(dry_run))
    with stores.warehouse.session() as db:
        gone = removed_hirers_due(db, now - _days(limits.removed_hirer_grace_days))
    still = removed_hirers(stores.inbox)  # the relationship is still removed today
    removed = [h for h in gone if h in still]
    _expire_files(run, now - _days(limits.file_days_after_confirmed), targets, removed, limits)
    _purge_profiles(run, now - _days(limits.profile_days), targets, removed, limits)
    _purge_hirers(run, removed, wait_seconds)
    _trim_inbox(run, now - _days(limits.inbox_days))
    return run.report


def _expire_files(
    run: _Run,
    confirmed_before: datetime,
    targets: Mapping[str, str],
    removed: list[str],
    limits: Limits,
) -> None:
    """Blobs of files confirmed long enough ago deleted (unless another stored file of the
    hirer shares them), then the rows marked `expired`, in one warehouse session."""
    stores = run.stores
    with stores.warehouse.session() as db:
        due = files_due(db, confirmed_before, targets, skip_hirers=removed)
    if due.empty:
        return
    hirers = sorted(set(due["hirer_id"]))
    try:
        taken = run.claim(hirers)
        if not taken:
            return
        stores.merge()  # a dead run's journaled rows first: they could name these files
        skip = [*removed, *(h for h in hirers if h not in taken)]
        with stores.warehouse.session() as db:
            due = files_due(db, confirmed_before, targets, skip_hirers=skip)
            due = due[due["hirer_id"].isin(taken)]  # only hirers this run holds
            blobs = unshared_blobs(db, due)
        sizes = due.drop_duplicates(["hirer_id", "sha256"]).set_index(["hirer_id", "sha256"])
        for hirer_id, sha256 in sorted(blobs):
            freed = int(sizes.loc[(hirer_id, sha256), "bytes"])
            if not run.dry_run:  # the blob first: a crash leaves a row that is due again
                freed = stores.blobs.delete(stores.blobs.key_for(hirer_id, sha256))
            run.report.of(hirer_id).bytes_freed += freed
        for hirer_id, count in due.groupby("hirer_id").size().items():
            run.report.of(str(hirer_id)).files_expired += int(count)
        run.expired, run.freed = set(due["attachment_id"]), blobs
        if not run.dry_run:
            reason = (
                f"expired: deleted {limits.file_days_after_confirmed:g} day(s) after its upload "
                "was confirmed (retention; the ATS holds the file)"
            )
            with stores.warehouse.session() as db:
                expire(db, list(due["attachment_id"]), reason)
    finally:
        run.leases.release(run.owner)


def _purge_profiles(
    run: _Run,
    created_before: datetime,
    targets: Mapping[str, str],
    removed: list[str],
    limits: Limits,
) -> None:
    """The oldest due applications (at most the per-run cap), in one purge; those an unsettled
    upload still needs are held."""
    stores, report = run.stores, run.report
    with stores.warehouse.session() as db:
        due = profiles_due(db, created_before, targets, skip_hirers=removed)
    hirers = sorted(set(due.loc[~due["held"].astype(bool), "hirer_id"]))
    try:
        taken = run.claim(hirers) if hirers else []
        if taken:
            stores.merge()  # a dead run's journaled rows first: they could settle or hold some
        skip = [*removed, *(h for h in hirers if h not in taken)]
        with stores.warehouse.session() as db:
            due = profiles_due(db, created_before, targets, skip_hirers=skip)
            held = due[due["held"].astype(bool)]
            todo = due[~due["held"].astype(bool) & due["hirer_id"].isin(taken)]
            report.profiles_left = max(len(todo) - limits.profiles_per_run, 0)
            todo = todo.head(limits.profiles_per_run)
            selector = Selector(profile_ids=tuple(todo["profile_id"])) if len(todo) else None
            if selector is not None:
                found = find(db, selector)
                files = purged_files(db, found, skip=run.expired, freed=run.freed)
        for hirer_id, count in held.groupby("hirer_id").size().items():
            report.of(str(hirer_id)).profiles_held += int(count)
        if selector is None or _purge(run, selector, REASON_PROFILES, wait_seconds=0.0) is None:
            return
        for hirer_id, count in todo.groupby("hirer_id").size().items():
            report.of(str(hirer_id)).profiles_removed += int(count)
        for hirer_id, row in files.iterrows():
            report.of(str(hirer_id)).files_purged += int(row["files"])
            report.of(str(hirer_id)).bytes_freed += int(row["bytes"])
    finally:
        run.leases.release(run.owner)


def _purge(run: _Run, selector: Selector, reason: str, *, wait_seconds: float) -> str | None:
    """One purge under this run's owner; its id, or None (recorded) when a live run blocked it."""
    try:
        done = purge(
            run.stores,
            run.leases,
            selector,
            owner=run.owner,
            reason=reason,
            dry_run=run.dry_run,
            wait_seconds=wait_seconds,
            ended=run.ended,
        )
    except PurgeBlocked as error:
        run.report.errors.append(f"{selector.kind} purge not done: {error}")
        return None
    run.report.purge_ids.append(done.purge_id)
    return done.purge_id


def _purge_hirers(run: _Run, removed: list[str], wait_seconds: float) -> None:
    """Each hirer past its grace: everything of it (a hirer purge), one purge each."""
    for hirer_id in removed:
        selector = Selector(hirer_id=hirer_id)
        with run.stores.warehouse.session() as db:
            found = find(db, selector)
            files = purged_files(db, found, skip=run.expired, freed=run.freed)
        if _purge(run, selector, REASON_HIRER, wait_seconds=wait_seconds) is None:
            continue
        mine = run.report.of(hirer_id)
        mine.hirer_purged = True
        mine.profiles_removed += len(found.profile_ids)
        if hirer_id in files.index:
            mine.files_purged += int(files.loc[hirer_id, "files"])
            mine.bytes_freed += int(files.loc[hirer_id, "bytes"])


def _trim_inbox(run: _Run, received_before: datetime) -> None:
    """Consumed events and callbacks past the limit (callbacks an unsettled upload waits on
    stay)."""
    with run.stores.warehouse.session() as db:
        keys = unsettled_keys(db)
    counts = trim(run.stores.inbox, received_before, keep_keys=keys, dry_run=run.dry_run)
    for hirer_id, removed in counts.items():
        mine = run.report.of(hirer_id)
        mine.inbox_events_removed += removed["events"]
        mine.inbox_callbacks_removed += removed["callbacks"]
