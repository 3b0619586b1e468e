"""Every upload reaches a terminal state with evidence, under the fault mix an adversarial user
tried: SEEK 5xx/429/resets/truncations, Onderwijsregio lost responses, mutations that fail after
their 202 with their callbacks lost, Kombo timeouts after the write. The sandbox and the receiver
run as their own processes, `seek-sync sync` ticks run as processes, and the result is counted at
the fakes through their own APIs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from seek_sync.process_stack import ProcessStack, process_stack
from seek_sync.store.warehouse_duckdb import DuckDBWarehouse
from tests.dagster.crash_helpers import RUNS, audit

WORLD = ("--applications", "24", "--hirers", "4", "--seed", "5")
FAULTS: list[dict[str, Any]] = [
    {"endpoint": "graphql", "kind": "error", "status": 503, "times": 3},
    {"endpoint": "graphql", "kind": "rate_limit", "retry_after": 0.2, "times": 2, "skip": 4},
    {"endpoint": "graphql", "kind": "reset", "times": 2, "skip": 8},
    {"endpoint": "attachment", "kind": "truncate", "times": 2},
    {"endpoint": "attachment", "kind": "error", "status": 502, "times": 2, "skip": 3},
    {"endpoint": "onderwijsregio.attachments", "kind": "lose_response", "times": 2},
    {"endpoint": "onderwijsregio.create", "kind": "lose_response", "times": 1, "skip": 1},
]


def _uploads(stack: ProcessStack) -> list[tuple[str, str, str | None, str]]:
    warehouse = DuckDBWarehouse(Path(stack.env["SEEK_SYNC_HOME"]) / "warehouse.duckdb")
    with warehouse.connect(read_only=True) as db:
        return db.execute(
            "SELECT u.target, u.state, u.last_error, f.safe_filename FROM attachment_files f "
            "LEFT JOIN ats_uploads u USING (attachment_id) WHERE f.status = 'stored'"
        ).fetchall()


def _settle(stack: ProcessStack, ticks: int = 40) -> int:
    """One-tick `seek-sync sync` processes until no stored file is without a terminal state."""
    for tick in range(ticks):
        process = stack.seek_sync("sync")
        out, err = process.communicate(timeout=170)
        assert process.returncode in (0, 1), err[-3000:]
        assert RUNS.search(out), out + err[-3000:]
        stack.wait_idle()
        open_ = [u for u in _uploads(stack) if u[1] not in ("confirmed", "rejected", "failed")]
        if not open_ and stack.idle():
            return tick + 1
        time.sleep(1.0)  # the confirm wait is 2 s: let it pass between ticks
    raise AssertionError(f"not settled after {ticks} ticks: {_uploads(stack)}")


@pytest.mark.parametrize("reruns", [False, True], ids=["failed-key-final", "failed-key-reruns"])
def test_every_upload_ends_confirmed_once_or_rejected_or_failed_with_a_reason(
    tmp_path: Path, reruns: bool
) -> None:
    setting = {
        "SEEK_SYNC_ATS_CONFIRM_TIMEOUT_SECONDS": "2",
        "SEEK_SYNC_ONDERWIJSREGIO_FAILED_KEY_RERUNS": str(reruns).lower(),
        "SEEK_SYNC_RETRY_INITIAL_BACKOFF_SECONDS": "0.05",
        "SEEK_SYNC_WORK_RETRY_BASE_SECONDS": "0.5",
    }
    with process_stack(tmp_path / "home", *WORLD, extra_env=setting) as stack:
        stack.admin("POST", "/_sandbox/faults", FAULTS)
        stack.admin(
            "POST",
            "/_sandbox/onderwijsregio/faults",
            {"fail_after_accept": 3, "lose_callbacks": 6, "failed_key_reruns": reruns},
        )
        stack.admin("POST", "/_sandbox/kombo/faults", {"timeout_after_write": 2})
        ticks = _settle(stack)
        uploads = _uploads(stack)
        result = audit(stack)
        counts = stack.admin("GET", "/_sandbox/onderwijsregio/state")

    # Counted at the fakes: every confirmed upload is held exactly once, no file held that we
    # did not confirm, no person twice (`audit`), and every stored file is settled.
    assert result.problems == [], result.problems
    states = [state for _, state, _, _ in uploads]
    assert "accepted" not in states and "pending" not in states and None not in states
    assert all(error for _, state, error, _ in uploads if state in ("rejected", "failed"))
    assert counts["mutations_failed"] >= 3  # the faults really fired ...
    assert counts["mutations_replayed"] >= 1  # ... and unknown outcomes were sent again
    # Our own file policy refused the sandbox's executable for whichever target it was bound.
    exe = [u for u in uploads if u[3] == "setup.exe"]
    assert exe and all(u[1] == "rejected" and "executable" in (u[2] or "") for u in exe)
    if reruns:  # a repeated failed key runs again: every failure is recovered
        assert states.count("failed") == 0, [u for u in uploads if u[1] == "failed"]
    failed = [u for u in uploads if u[1] == "failed"]
    print(f"\nreruns={reruns}: {ticks} ticks, {result.counts}, failed: {failed}")


@pytest.mark.parametrize("kind", ["onderwijsregio", "kombo"])
def test_an_executable_declared_as_a_pdf_is_refused_for_both_targets(
    tmp_path: Path, kind: str
) -> None:
    """`setup.exe` and an executable named and declared as a PDF are both refused by our own
    policy (by content), recorded `rejected` with the reason, and never reach the fake."""
    with process_stack(tmp_path / "home", *WORLD, kinds=(kind,)) as stack:
        _settle(stack)
        uploads = _uploads(stack)
        ledger = stack.ledger()
        warehouse = DuckDBWarehouse(Path(stack.env["SEEK_SYNC_HOME"]) / "warehouse.duckdb")
        with warehouse.connect(read_only=True) as db:
            refused_sha256 = {
                sha
                for (sha,) in db.execute(
                    "SELECT sha256 FROM attachment_files WHERE safe_filename IN (?, ?)",
                    ["setup.exe", "Signed references.pdf"],
                ).fetchall()
            }
    assert len(refused_sha256) == 2
    refused = {name: (state, error) for _, state, error, name in uploads}
    for name in ("setup.exe", "Signed references.pdf"):
        state, error = refused[name]
        assert state == "rejected" and "executable" in (error or ""), (name, state, error)
    held = {f["sha256"] for f in ledger[kind]["files"]}
    assert held and not held & refused_sha256, "an executable reached the fake"
