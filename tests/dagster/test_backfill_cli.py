"""Backfilling a hirer with `dagster asset materialize --partition` is idempotent and re-derives.

The flow first runs for the sandbox's two related hirers (one on Onderwijsregio, one on Kombo)
the way the daemon would (sensor tick, runs, until the ATS fakes are idle). Then:

1. the CLI re-runs each hirer's partition: it exits 0, no ATS fake receives a file, and the
   warehouse is unchanged (timestamps aside);
2. the warehouse file is deleted (the inbox and the blobs stay) and the CLI runs again: the SEEK
   side is rebuilt from the recorded events exactly as it was, and still no ATS fake receives a
   file and none is refused: the targets find the candidates by email and read back what the ATS
   already holds instead of sending it again (Kombo has no idempotency; Onderwijsregio would
   refuse a create's key reused for an append, and a fresh key would store the file twice);
3. one more run applies the callbacks still waiting: every file is confirmed as before, and
   still nothing is sent.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from seek_sync.backend import open_warehouse
from seek_sync.demo import DriveReport, drive_until_idle
from seek_sync.driver import Driver
from seek_sync.local_stack import LocalStack, local_stack
from seek_sync.runstate.hirer_keys import HirerKeys
from seek_sync.sandbox.config import SandboxConfig
from tests.dagster.cli_runs import (
    IN_PROCESS,
    lock_failures,
    materialize_all,
    warehouse_rows,
)
from tests.dagster.conftest import inbox_of

# Three hirers, the last without a relationship: two to sync, one per ATS kind.
CONFIG = SandboxConfig(applications=16, hirers=3, edge_cases=False)
SEEK_SIDE = ("application_events", "candidate_profiles", "attachment_manifest", "attachment_files")


def upload_states(stack: LocalStack) -> dict[str, dict[str, int]]:
    """hirer -> upload state -> count, from the warehouse."""
    out: dict[str, dict[str, int]] = {}
    for hirer_id, _, state in uploads(stack):
        by_state = out.setdefault(hirer_id, {})
        by_state[state] = by_state.get(state, 0) + 1
    return out


def uploads(stack: LocalStack) -> list[tuple[str, str, str]]:
    """(hirer, attachment, state) of every upload record, sorted."""
    warehouse = open_warehouse(stack.settings)
    frame = warehouse.query("SELECT hirer_id, attachment_id, state FROM ats_uploads ORDER BY ALL")
    return [(str(h), str(a), str(s)) for h, a, s in frame.itertuples(index=False, name=None)]


def refused(stack: LocalStack) -> list[tuple[str, str]]:
    """(state, error) of every upload that an ATS refused or that failed."""
    warehouse = open_warehouse(stack.settings)
    frame = warehouse.query(
        "SELECT state, last_error FROM ats_uploads WHERE state IN ('failed', 'rejected') "
        "OR last_error IS NOT NULL"
    )
    return [(str(s), str(e)) for s, e in frame.itertuples(index=False, name=None)]


def backfill(stack: LocalStack) -> None:
    """The CLI for every hirer, by its partition key (in-process executor: this test is about
    what a run does)."""
    keys = HirerKeys(inbox_of(stack)).all()
    assert sorted(keys) == sorted(stack.targets)  # the sensor made them
    configs = dict.fromkeys(sorted(keys.values()), IN_PROCESS)
    for key, (code, output) in materialize_all(configs).items():
        assert code == 0, f"{key}: exit {code}\n{output[-4000:]}"
        assert "RUN_SUCCESS" in output, output[-4000:]
        assert not lock_failures(output)
    assert stack.wait_for_fakes(60), "the Onderwijsregio fake is still busy"


def test_backfill_is_idempotent_and_rederives_without_new_uploads(tmp_path: Path) -> None:
    with local_stack(tmp_path / "stack", CONFIG) as stack:
        assert sorted(stack.targets.values()) == ["kombo", "onderwijsregio"]
        drive = DriveReport()
        with dg.DagsterInstance.get() as instance:
            drive_until_idle(Driver(instance, log_level="WARNING"), stack, drive)
        assert drive.failed == [] and drive.runs >= 2
        first, sent, states = warehouse_rows(stack), stack.files_at_fakes(), upload_states(stack)
        before = uploads(stack)
        assert sorted(states) == sorted(stack.targets)
        assert all(set(by_state) == {"confirmed"} for by_state in states.values()), states
        assert sent["onderwijsregio"] == states[_hirer(stack, "onderwijsregio")]["confirmed"]

        # 1. A second run of each partition changes nothing, here or at the ATS.
        backfill(stack)
        assert stack.files_at_fakes() == sent
        assert warehouse_rows(stack) == first

        # 2. Without the warehouse, the partition is re-derived from the inbox and the blobs.
        warehouse_path = Path(stack.settings.warehouse_path)
        for path in (warehouse_path, warehouse_path.with_name(warehouse_path.name + ".wal")):
            path.unlink(missing_ok=True)
        backfill(stack)
        rebuilt = warehouse_rows(stack)
        for table in SEEK_SIDE:
            assert rebuilt[table] == first[table], table
        assert stack.files_at_fakes() == sent, "a re-derived warehouse re-sent files to an ATS"
        assert refused(stack) == []

        # 3. One more run settles what the re-derived run left waiting for its callback, still
        # without sending anything: every file is confirmed, as at the start.
        backfill(stack)
        assert stack.files_at_fakes() == sent
        assert uploads(stack) == before
        assert upload_states(stack) == states


def _hirer(stack: LocalStack, kind: str) -> str:
    return next(h for h, k in stack.targets.items() if k == kind)
