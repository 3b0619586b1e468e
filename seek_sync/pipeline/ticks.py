"""What one tick asks for, decided from the inbox database alone (no Dagster, no warehouse).

The hirers due (new input past what their last pass consumed, or a due time that has come; see
`seek_sync.runstate.ledger`) that no live run holds are handed out in runs of at most
`hirers_per_run`, least recently served first, at most `runs_per_tick` runs a tick. Each run's
hirers are reserved for it in the same step, so a second tick (another `seek-sync sync`, or the
daemon's sensor) at the same moment hands out other hirers or none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from seek_sync.pipeline.hirers import removed_hirers
from seek_sync.runstate.inbox import UNKNOWN_HIRER, Inbox
from seek_sync.runstate.leases import Leases
from seek_sync.runstate.ledger import Due, Ledger
from seek_sync.runstate.processes import Holder


@dataclass(frozen=True)
class RunPlan:
    """One run a tick requests: its key (the reservation's owner) and its hirers."""

    run_key: str
    hirer_ids: list[str]


@dataclass
class TickPlan:
    runs: list[RunPlan] = field(default_factory=list)
    new_hirers: list[str] = field(default_factory=list)  # due hirers not yet a partition
    waiting: list[str] = field(default_factory=list)  # due, but without a key yet (no name)
    due: list[Due] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # due, but a live run holds them
    removed: list[str] = field(default_factory=list)  # with input, but no relationship
    left: int = 0  # due and free, but over this tick's run budget
    unknown_hirer: int = 0

    @property
    def hirers(self) -> list[str]:
        return [h for run in self.runs for h in run.hirer_ids]


def plan_tick(
    inbox: Inbox,
    leases: Leases,
    is_known: Callable[[str], bool],
    *,
    hirers_per_run: int,
    max_runs: int,
    holder: Holder,
    now: float | None = None,
    switched: Collection[str] = (),
    unready: Callable[[list[str]], Collection[str]] = lambda _: (),
) -> TickPlan:
    """Reserve the free due hirers for at most `max_runs` runs of `hirers_per_run` hirers
    (`switched`: hirers due now whatever the ledger says, e.g. on demand yet holding blobs;
    `unready`: given the free due hirers, makes their partition keys and names those that
    cannot run yet, which wait)."""
    now = time.time() if now is None else now
    ledger, removed = Ledger(inbox), removed_hirers(inbox)
    plan = TickPlan(unknown_hirer=inbox.counts()["unknown_hirer"])
    everything = ledger.due(now, exclude={UNKNOWN_HIRER})
    listed = {d.hirer_id for d in everything}
    everything += [Due(h, 0, 0, None, 0, None) for h in sorted(set(switched) - listed)]
    plan.removed = [d.hirer_id for d in everything if d.hirer_id in removed]
    plan.due = [d for d in everything if d.hirer_id not in removed]
    live = leases.live()
    plan.held = [d.hirer_id for d in plan.due if d.hirer_id in live]
    free = [d.hirer_id for d in plan.due if d.hirer_id not in live]
    waiting = set(unready(free)) if free else set()
    plan.waiting = [h for h in free if h in waiting]
    free = [h for h in free if h not in waiting]
    budget = hirers_per_run * max_runs
    plan.left = max(len(free) - budget, 0)
    stamp = f"{int(now * 1000):x}"
    for index, start in enumerate(range(0, min(len(free), budget), hirers_per_run)):
        run_key = f"sync|{stamp}|{index}"
        reserved = leases.reserve(free[start : start + hirers_per_run], run_key, holder)
        if reserved:
            plan.runs.append(RunPlan(run_key, reserved))
    plan.new_hirers = [h for h in plan.hirers if not is_known(h)]
    return plan
