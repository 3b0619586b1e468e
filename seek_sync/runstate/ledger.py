"""What each hirer owes and when it is next due, kept in the inbox database (`hirer_work`).

A hirer owes work when the inbox holds input past what its last finished run consumed (events or
callbacks with a higher seq) or when its recorded due time has come. A run writes the row when it
finishes a hirer: the inbox seqs it consumed, what is still owed (read from the warehouse by the
run step, the only place that may open it) and the next due time: now for a backlog left by the
per-run cap, exponential backoff for items that failed, and the confirmation timeout for uploads
waiting for a callback. A run that dies writes nothing, so its hirers stay owed and the next tick
asks for them again. The tick reads only this database, never the warehouse. No Dagster here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from seek_sync.db.database import Tx
from seek_sync.runstate.inbox import UNKNOWN_HIRER, Inbox

Fence = Callable[[Tx, Iterable[str]], None]  # raises inside a write unless its hirers are held


@dataclass
class Owed:
    """What a hirer still owes after a run, counted from the warehouse."""

    backlog: int = 0  # items not attempted yet (new, or left by the per-run cap): due now
    retry: int = 0  # items whose last attempt failed: due after a backoff
    waiting: int = 0  # uploads and creates accepted by the ATS, waiting for their callback
    waiting_since: float | None = None  # epoch seconds of the oldest of those

    def next_due(
        self, now: float, failures: int, *, confirm_timeout: float, backoff: Backoff
    ) -> float | None:
        dues = []
        if self.backlog:
            dues.append(now)
        if self.retry:
            dues.append(now + backoff.delay(failures))
        if self.waiting:
            dues.append((self.waiting_since or now) + confirm_timeout)
        return min(dues) if dues else None


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 30.0
    max_seconds: float = 3600.0

    def delay(self, failures: int) -> float:
        return min(self.max_seconds, self.base_seconds * 2 ** max(failures - 1, 0))


@dataclass
class HirerWork:
    """One `hirer_work` row (a hirer no run finished yet has the defaults)."""

    hirer_id: str
    events_seq: int = 0
    callbacks_seq: int = 0
    due_at: float | None = None
    owed: dict[str, object] = field(default_factory=dict)
    failures: int = 0
    last_error: str | None = None
    last_run_id: str | None = None
    last_run_at: float | None = None


def _work(r: Any) -> HirerWork:
    return HirerWork(
        hirer_id=r["hirer_id"],
        events_seq=r["events_seq"],
        callbacks_seq=r["callbacks_seq"],
        due_at=r["due_at"],
        owed=json.loads(r["owed_json"] or "{}"),
        failures=r["failures"],
        last_error=r["last_error"],
        last_run_id=r["last_run_id"],
        last_run_at=r["last_run_at"],
    )


@dataclass(frozen=True)
class Due:
    """A hirer a tick should request, and why."""

    hirer_id: str
    new_events: int
    new_callbacks: int
    due_at: float | None
    failures: int
    last_run_at: float | None


class Ledger:
    """The `hirer_work` table, read against the inbox's events and callbacks."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def marks(self, table: str, hirer_ids: Iterable[str] | None = None) -> dict[str, int]:
        """Hirer -> highest seq of its rows in `table` (events or callbacks)."""
        rows = self.inbox.read(f"SELECT hirer_id, MAX(seq) AS m FROM {table} GROUP BY hirer_id")
        wanted = set(hirer_ids) if hirer_ids is not None else None
        return {
            r["hirer_id"]: int(r["m"]) for r in rows if wanted is None or r["hirer_id"] in wanted
        }

    def rows(self) -> dict[str, HirerWork]:
        return {r["hirer_id"]: _work(r) for r in self.inbox.read("SELECT * FROM hirer_work")}

    def row(self, hirer_id: str) -> HirerWork:
        """One hirer's row (one indexed read: a run asks once per hirer)."""
        rows = self.inbox.read("SELECT * FROM hirer_work WHERE hirer_id = ?", (hirer_id,))
        return _work(rows[0]) if rows else HirerWork(hirer_id)

    def rows_for(self, hirer_ids: Iterable[str]) -> dict[str, HirerWork]:
        known = self.rows()
        return {h: known.get(h, HirerWork(h)) for h in hirer_ids}

    def due(self, now: float | None = None, *, exclude: Iterable[str] = ()) -> list[Due]:
        """Hirers with new input or a due time that has come, least recently served first."""
        now = time.time() if now is None else now
        skip = {UNKNOWN_HIRER, *exclude}
        events, callbacks, work = self.marks("events"), self.marks("callbacks"), self.rows()
        found = []
        for hirer_id in sorted((set(events) | set(callbacks) | set(work)) - skip):
            row = work.get(hirer_id, HirerWork(hirer_id))
            new_events = max(events.get(hirer_id, 0) - row.events_seq, 0)
            new_callbacks = max(callbacks.get(hirer_id, 0) - row.callbacks_seq, 0)
            timed = row.due_at is not None and row.due_at <= now
            if new_events or new_callbacks or timed:
                found.append(
                    Due(
                        hirer_id,
                        new_events,
                        new_callbacks,
                        row.due_at,
                        row.failures,
                        row.last_run_at,
                    )
                )
        return sorted(found, key=lambda d: (d.last_run_at or 0.0, d.hirer_id))

    def finish(
        self,
        work: HirerWork,
        *,
        run_id: str,
        owed: Owed | None,
        error: str | None,
        confirm_timeout: float,
        backoff: Backoff,
        fence: Fence | None = None,
    ) -> HirerWork:
        """Record the end of a hirer's pass: consumed seqs (in `work`), what is owed, next due.

        `error` means the pass failed as a whole: the seqs stay where they were (its input is owed
        again) and the hirer is due after a backoff. `fence` checks, in the same transaction, that
        the run still holds the hirer.
        """
        now = time.time()
        done = HirerWork(**asdict(work))
        done.last_run_id, done.last_run_at = run_id, now
        if error is not None or owed is None:
            done.failures += 1
            done.last_error = error or "failed"
            done.due_at = now + backoff.delay(done.failures)
            previous = self.row(work.hirer_id)
            done.events_seq, done.callbacks_seq = previous.events_seq, previous.callbacks_seq
        else:
            done.failures = done.failures + 1 if owed.retry else 0
            done.last_error = None if not owed.retry else done.last_error
            done.owed = asdict(owed)
            done.due_at = owed.next_due(
                now, done.failures, confirm_timeout=confirm_timeout, backoff=backoff
            )
        self._write(done, fence)
        return done

    def _write(self, work: HirerWork, fence: Fence | None = None) -> None:
        values = asdict(work)
        values["owed_json"] = json.dumps(values.pop("owed"))
        columns = list(values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "hirer_id")
        with self.inbox.transaction() as conn:
            if fence is not None:
                fence(conn, [work.hirer_id])
            conn.execute(
                f"INSERT INTO hirer_work ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))}) "
                f"ON CONFLICT (hirer_id) DO UPDATE SET {updates}",
                [values[c] for c in columns],
            )

    def failing(self, at_least: int = 3) -> dict[str, HirerWork]:
        """Hirers whose last `at_least` passes failed or left failed items."""
        return {h: w for h, w in self.rows().items() if w.failures >= at_least}
