"""`seek-sync demo`: the whole flow through Dagster on the local sandbox, checked against it.

Starts the sandbox (SEEK, Onderwijsregio and Kombo fakes) and the receiver app in-process, runs
the in-process driver (sensor tick -> hirer partitions -> one run per hirer) until no work is
left, then has the sandbox push five new applications as duplicated, reordered signed webhooks and
drives again. Prints a summary table and checks it against the sandbox's own counts; exits
non-zero on any mismatch or failed run.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pandas as pd

from seek_sync.backend import open_blobs, open_warehouse
from seek_sync.driver import Driver
from seek_sync.local_stack import LocalStack, local_stack
from seek_sync.progress import CommandProgress
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.store.summary import per_hirer, rejections

DEMO_KINDS = ("onderwijsregio", "kombo")


@dataclass
class DriveReport:
    ticks: int = 0
    runs: int = 0
    failed: list[str] = field(default_factory=list)


def drive_until_idle(driver: Driver, stack: LocalStack, report: DriveReport) -> None:
    """Tick until a tick runs nothing while the ATS fakes have nothing in flight."""
    for _ in range(60):
        outcome = driver.tick()
        report.ticks += 1
        report.runs += outcome.ran
        report.failed += outcome.runs_failed
        if outcome.ran == 0 and stack.fakes_idle():
            return
        stack.wait_for_fakes()
    report.failed.append("still busy after 60 ticks")


def drive_with_webhooks(
    driver: Driver, stack: LocalStack, drive: DriveReport, new: int = 5
) -> None:
    """Drive until idle, have the sandbox push `new` applications as duplicated, reordered
    webhooks, and drive until idle again."""
    drive_until_idle(driver, stack, drive)
    added = stack.sandbox.state.world.add_applications(new)
    stack.sandbox.deliver_webhooks(
        f"{stack.receiver_url}/webhooks/seek", added, duplicate=True, reorder=True
    )
    drive_until_idle(driver, stack, drive)


@dataclass
class DemoStatus:
    """The demo's live counts for the rich display, read from the in-process sandbox."""

    stack: LocalStack
    drive: DriveReport
    kombo_before: int

    def applications(self) -> tuple[int, int]:
        """Mapped hirers' applications whose profile was fetched, of all of them."""
        world = self.stack.sandbox.state.world
        mapped = [a for a in list(world.applications.values()) if a.hirer_id in self.stack.targets]
        return sum(1 for a in mapped if world.profile_reads[a.profile_id]), len(mapped)

    def text(self) -> str:
        downloads = self.stack.sandbox.count("attachment")
        stored = sum(self.stack.files_at_fakes().values()) - self.kombo_before
        return (
            f"fetched · {downloads} downloaded · {stored} stored at the ATSs · "
            f"{self.drive.ticks} ticks, {self.drive.runs} runs"
        )


def expected(stack: LocalStack) -> dict[str, dict[str, int]]:
    """Per mapped hirer, what the sandbox holds: applications, files and bytes (removed files
    answer 404, so they are expected as not stored; a hirer on demand stores no file and no
    byte, its files are known `on_demand`)."""
    world = stack.sandbox.state.world
    out: dict[str, dict[str, int]] = {}
    names = ("applications", "files", "on_demand", "bytes", "not_stored")
    for app in world.applications.values():
        if app.hirer_id in stack.targets:
            row = out.setdefault(app.hirer_id, dict.fromkeys(names, 0))
            row["applications"] += 1
            present = [a for a in app.attachments if not a.removed]
            kept = app.hirer_id not in stack.on_demand
            row["files" if kept else "on_demand"] += len(present)
            row["bytes"] += sum(a.size for a in present) if kept else 0
            row["not_stored"] += len(app.attachments) - len(present)
    return out


def blobs_on_demand(stack: LocalStack) -> dict[str, int]:
    """Blobs held for each hirer on demand (0 each, or the demo fails)."""
    blobs = open_blobs(stack.settings)
    return {hirer_id: blobs.holds(hirer_id) for hirer_id in stack.on_demand}


def repeat_applicants(stack: LocalStack) -> int:
    """Mapped hirers' candidates who applied more than once to the same hirer."""
    seen = Counter(
        a.candidate_id
        for a in stack.sandbox.state.world.applications.values()
        if a.hirer_id in stack.targets and a.attachments
    )
    return sum(1 for n in seen.values() if n > 1)


def duplicate_people(stack: LocalStack) -> list[str]:
    """Emails held by more than one candidate in an ATS fake (a repeat applicant created twice)."""
    fakes = stack.sandbox.state.fakes
    emails = {
        "onderwijsregio": [
            str(c.get("email", "")).casefold() for c in fakes["onderwijsregio"].candidates()
        ],
        "kombo": [c.email.casefold() for c in fakes["kombo"].store.candidates.values()],
    }
    return [
        f"{kind}: {e}" for kind, found in emails.items() for e, n in Counter(found).items() if n > 1
    ]


@dataclass
class AtTheFakes:
    """What the count check compares the warehouse with, read from the sandbox: per mapped hirer
    what it serves (`expected`), people held twice at an ATS fake, files each fake stored (its
    own seeded ones aside) and blobs held for each hirer on demand. Read in process here, over
    the sandbox's admin API for a cluster (`seek_sync/cluster/counts.py`)."""

    expected: dict[str, dict[str, int]]
    duplicates: list[str]
    stored: dict[str, int]
    on_demand_blobs: dict[str, int]


def at_the_fakes(stack: LocalStack, kombo_before: int) -> AtTheFakes:
    stored = stack.files_at_fakes()
    stored["kombo"] -= kombo_before
    return AtTheFakes(expected(stack), duplicate_people(stack), stored, blobs_on_demand(stack))


def compare(table: pd.DataFrame, fakes: AtTheFakes, failed: list[str]) -> list[str]:
    """The demo's count check: each mismatch between the warehouse's per-hirer table and the
    fakes, in one line each (none: the check passes)."""
    problems = [f"run failed: {key}" for key in failed]
    got = {row.hirer_id: row for row in table.itertuples()}
    for hirer_id, counts in fakes.expected.items():
        row = got.get(hirer_id)
        if row is None:
            problems.append(f"{hirer_id}: not in the warehouse")
            continue
        for name, value in counts.items():
            if getattr(row, name) != value:
                problems.append(f"{hirer_id}: {name} {getattr(row, name)}, sandbox {value}")
        if row.open or row.failed:
            unsettled = f"{row.open} open, {row.failed} failed"
            problems.append(f"{hirer_id}: upload(s) neither confirmed nor rejected ({unsettled})")
    problems += [f"created twice at {where}" for where in fakes.duplicates]
    for hirer_id, held in fakes.on_demand_blobs.items():
        if held:
            problems.append(f"{hirer_id}: on demand, yet {held} blob(s) stored")
    for kind in ("onderwijsregio", "kombo"):
        confirmed = int(table[table.mapped_target == kind].confirmed.sum())
        received = fakes.stored[kind]
        if confirmed != received:
            problems.append(f"{kind}: {confirmed} uploads confirmed, the fake stored {received}")
    return problems


def check(
    stack: LocalStack, table: pd.DataFrame, drive: DriveReport, kombo_before: int
) -> list[str]:
    return compare(table, at_the_fakes(stack, kombo_before), drive.failed)


def print_summary(
    table: pd.DataFrame, reasons: pd.DataFrame, drive: DriveReport, seconds: float
) -> None:
    shown = table.drop(columns=["relationship"]).rename(columns={"mapped_target": "target"})
    totals = shown.select_dtypes("number").sum()
    print("\n" + shown.to_string(index=False))
    print(
        f"\ntotal: {totals['applications']} applications, {totals['profiles']} profiles, "
        f"{totals['files']} files, {totals['bytes']:,} bytes, "
        f"{totals['confirmed']} uploads confirmed, {totals['rejected']} rejected, "
        f"{totals['failed']} failed"
    )
    if not reasons.empty:
        print("\nrejected or failed, with the reason:\n" + reasons.to_string(index=False))
    print(f"\n{drive.ticks} sensor ticks, {drive.runs} runs in {seconds:.1f} s")


def run_demo(applications: int = 60, hirers: int = 6, home: Path = Path(".seek-sync/demo")) -> int:
    started = time.perf_counter()
    shutil.rmtree(home, ignore_errors=True)
    config = SandboxConfig(applications=applications, hirers=hirers, edge_cases=True)
    drive = DriveReport()
    with local_stack(home.resolve(), config, kinds=DEMO_KINDS, on_demand=True) as stack:
        kombo_before = stack.files_at_fakes()["kombo"]  # the fake's own seeded applications
        print(f"sandbox  {stack.sandbox.base_url}   receiver {stack.receiver_url}")
        for hirer_id, kind in stack.targets.items():
            mode = "  (attachments on demand)" if hirer_id in stack.on_demand else ""
            print(f"  {hirer_id:<44} -> {kind}{mode}")
        with dg.DagsterInstance.get() as instance, CommandProgress() as progress:
            status = DemoStatus(stack, drive, kombo_before)
            progress.status(status.text, status.applications)
            driver = Driver(instance, log_level="WARNING", trigger="demo")
            drive_with_webhooks(driver, stack, drive)
        warehouse = open_warehouse(stack.settings)
        table, reasons = per_hirer(warehouse), rejections(warehouse)
        problems = check(stack, table, drive, kombo_before)
        repeats = repeat_applicants(stack)
        held = blobs_on_demand(stack)
    print("\nwebhooks: 5 more applications delivered by the sandbox twice each, reordered")
    print(f"repeat applicants (same hirer): {repeats}, each created once in its ATS")
    print_summary(table, reasons, drive, time.perf_counter() - started)
    for hirer_id, blobs in held.items():
        print(f"on demand: {hirer_id}: {blobs} blobs stored, its files fetched from SEEK per push")
    for problem in problems:
        print(f"MISMATCH: {problem}")
    print(f"\ndemo {'FAILED' if problems else 'ok'} in {time.perf_counter() - started:.1f} s")
    return 1 if problems else 0
