"""Which process holds which hirer, and which process executes which run, in the inbox database.

A tick *reserves* the hirers it hands to a run; the run *claims* them when it starts. Both take a
hirer only when no live holder has it, in one transaction whose row locks (`FOR UPDATE SKIP
LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite) keep two ticks or two runs, on any machines,
from taking one hirer at once. A holder is live while its presence token is held (PostgreSQL: a
session lock that dies with its connection), else while its process lives (pid and start time,
on this host), else while its heartbeat is fresh; an unclaimed reservation lapses after
`reservation_seconds` (the run it was made for never started). A dead holder's hirers are free
again, and so are the runs it owned: see `seek_sync.dead_runs`. A run's writes are fenced: each
checks, inside its own transaction, that the run still holds its hirers (`fence`), so a holder
that lost a lease cannot write afterwards. No Dagster here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from seek_sync.db.database import Tx
from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.processes import Holder
from seek_sync.settings import Settings

_HOLDER = "owner, pid, pid_started, host, presence, heartbeat_at, claimed"
_INSERT = (
    f"INSERT INTO leases (hirer_id, {_HOLDER}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (hirer_id) DO NOTHING"
)
_UPDATE = (
    "UPDATE leases SET owner = ?, pid = ?, pid_started = ?, host = ?, presence = ?, "
    "heartbeat_at = ?, claimed = ? WHERE hirer_id = ?"
)


class LeaseLost(RuntimeError):
    """A run wrote for a hirer whose lease it no longer holds; nothing of the write is kept."""


@dataclass(frozen=True)
class Lease:
    hirer_id: str
    owner: str  # a run id once claimed; the tick's run key while only reserved
    holder: Holder
    heartbeat_at: float
    claimed: bool


def _holder(row: Any) -> Holder:
    return Holder(row["pid"], row["pid_started"], row["host"], row["presence"])


class Leases:
    """The `leases` and `run_owners` tables."""

    def __init__(
        self,
        inbox: Inbox,
        *,
        stale_after_seconds: float = 120.0,
        reservation_seconds: float = 600.0,
    ) -> None:
        self.inbox = inbox
        self.stale_after_seconds = stale_after_seconds
        self.reservation_seconds = reservation_seconds

    # --- liveness -----------------------------------------------------------------------------

    def me(self) -> Holder:
        """This process as a holder, with its presence token where the database gives one."""
        return replace(Holder.me(), presence=self.inbox.database.presence())

    def is_live(self, holder: Holder, heartbeat_at: float, *, claimed: bool) -> bool:
        now = time.time()
        if not claimed and now - heartbeat_at > self.reservation_seconds:
            return False
        present = (
            self.inbox.database.present(holder.presence) if holder.presence is not None else None
        )
        alive = present if present is not None else holder.alive()
        if alive is not None:
            return alive
        return now - heartbeat_at <= self.stale_after_seconds

    def live(self) -> dict[str, Lease]:
        """Every hirer held by a live holder."""
        rows = self.inbox.read("SELECT * FROM leases")
        leases = [
            Lease(r["hirer_id"], r["owner"], _holder(r), r["heartbeat_at"], bool(r["claimed"]))
            for r in rows
        ]
        return {
            lease.hirer_id: lease
            for lease in leases
            if self.is_live(lease.holder, lease.heartbeat_at, claimed=lease.claimed)
        }

    # --- taking and giving back ----------------------------------------------------------------

    def _take(
        self,
        hirer_ids: Iterable[str],
        owner: str,
        holder: Holder,
        *,
        claim: bool,
        accept: str,
        ended: Callable[[str], bool] | None = None,
    ) -> list[str]:
        wanted, taken, now = list(dict.fromkeys(hirer_ids)), set(), time.time()
        mine = (owner, holder.pid, holder.started, holder.host, holder.presence, now, int(claim))
        select = f"SELECT {_HOLDER} FROM leases WHERE hirer_id = ?{self.inbox.database.row_lock}"
        with self.inbox.transaction() as conn:
            # One order everywhere, so concurrent takers never deadlock.
            for hirer_id in sorted(wanted):
                if conn.executemany(_INSERT, [(hirer_id, *mine)]):
                    taken.add(hirer_id)
                    continue
                row = conn.execute(select, (hirer_id,)).fetchone()
                if row is None:
                    continue  # another transaction holds the row right now: it is not free
                if row["owner"] not in (owner, accept):
                    live = self.is_live(_holder(row), row["heartbeat_at"], claimed=row["claimed"])
                    if live and not (ended and row["claimed"] and ended(row["owner"])):
                        continue
                conn.execute(_UPDATE, (*mine, hirer_id))
                taken.add(hirer_id)
        return [h for h in wanted if h in taken]

    def fence(self, conn: Tx, owner: str, hirer_ids: Iterable[str]) -> None:
        """Inside a writing transaction: `LeaseLost` unless `owner` still holds a claim on every
        hirer. The lease rows stay locked until the write commits, so none changes hands first."""
        wanted = sorted(set(hirer_ids))
        if not wanted:
            return
        rows = conn.execute(
            f"SELECT hirer_id FROM leases WHERE owner = ? AND claimed = 1 "
            f"AND hirer_id IN ({','.join('?' * len(wanted))}) ORDER BY hirer_id"
            f"{self.inbox.database.share_lock}",
            (owner, *wanted),
        ).fetchall()
        lost = set(wanted) - {r[0] for r in rows}
        if lost:
            raise LeaseLost(f"run {owner} no longer holds {len(lost)} hirer(s): {min(lost)}, ...")

    def reserve(self, hirer_ids: Iterable[str], run_key: str, holder: Holder) -> list[str]:
        """Reserve the free hirers among `hirer_ids` for the run a tick requests."""
        return self._take(hirer_ids, run_key, holder, claim=False, accept=run_key)

    def claim(
        self,
        hirer_ids: Iterable[str],
        run_id: str,
        holder: Holder,
        *,
        reserved_as: str = "",
        ended: Callable[[str], bool] | None = None,
    ) -> list[str]:
        """Claim for run `run_id` each hirer that is free, dead, reserved as `reserved_as`, or
        held by a run that `ended` says has finished (its process may live on, as a test's or a
        `sync --loop` process does)."""
        return self._take(
            hirer_ids, run_id, holder, claim=True, accept=reserved_as or run_id, ended=ended
        )

    def release(self, owner: str, hirer_ids: Iterable[str] | None = None) -> None:
        with self.inbox.transaction() as conn:
            if hirer_ids is None:
                conn.execute("DELETE FROM leases WHERE owner = ?", (owner,))
            else:
                conn.executemany(
                    "DELETE FROM leases WHERE owner = ? AND hirer_id = ?",
                    [(owner, h) for h in hirer_ids],
                )

    def heartbeat(self, owner: str) -> None:
        now = time.time()
        with self.inbox.transaction() as conn:
            conn.execute("UPDATE leases SET heartbeat_at = ? WHERE owner = ?", (now, owner))
            conn.execute("UPDATE run_owners SET heartbeat_at = ? WHERE run_id = ?", (now, owner))

    @contextmanager
    def heartbeating(self, owner: str, every_seconds: float = 10.0) -> Iterator[None]:
        """Refresh `owner`'s heartbeat in a background thread while the block runs."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every_seconds):
                self.heartbeat(owner)

        thread = threading.Thread(target=beat, name=f"heartbeat-{owner[:8]}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    # --- run owners ----------------------------------------------------------------------------

    def own_run(self, run_id: str, holder: Holder) -> None:
        """Record that `holder` executes run `run_id` (so a tick can tell when it died)."""
        with self.inbox.transaction() as conn:
            conn.execute(
                "INSERT INTO run_owners (run_id, pid, pid_started, host, presence, heartbeat_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET pid = excluded.pid, "
                "pid_started = excluded.pid_started, host = excluded.host, "
                "presence = excluded.presence, heartbeat_at = excluded.heartbeat_at",
                (run_id, holder.pid, holder.started, holder.host, holder.presence, time.time()),
            )

    def run_owner_alive(self, run_id: str) -> bool | None:
        """Whether the process executing `run_id` lives; None when no owner was recorded."""
        rows = self.inbox.read("SELECT * FROM run_owners WHERE run_id = ?", (run_id,))
        if not rows:
            return None
        return self.is_live(_holder(rows[0]), rows[0]["heartbeat_at"], claimed=True)

    def owners(self) -> list[str]:
        """Every run id that recorded an owner or holds a claimed lease."""
        rows = self.inbox.read(
            "SELECT run_id FROM run_owners UNION SELECT owner FROM leases WHERE claimed = 1"
        )
        return [r[0] for r in rows]

    def forget_run(self, run_id: str) -> None:
        """A finished (or buried) run: its owner row and every lease it held go."""
        with self.inbox.transaction() as conn:
            conn.execute("DELETE FROM run_owners WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM leases WHERE owner = ?", (run_id,))

    # --- how a run step takes its hirers -------------------------------------------------------

    def claim_run(
        self,
        hirer_ids: Sequence[str],
        run_id: str,
        *,
        reserved_as: str = "",
        ended: Callable[[str], bool] | None = None,
    ) -> list[str]:
        """Record this process as run `run_id`'s owner, then `claim` the hirers for it: how every
        run step (an asset step or a batched run) takes its hirers. Returns those claimed."""
        me = self.me()
        self.own_run(run_id, me)
        return self.claim(hirer_ids, run_id, me, reserved_as=reserved_as, ended=ended)


def leases_for(settings: Settings, inbox: Inbox) -> Leases:
    """The leases table with the configured staleness and reservation lapse."""
    return Leases(
        inbox,
        stale_after_seconds=settings.lease_stale_seconds,
        reservation_seconds=settings.lease_reservation_seconds,
    )
