"""The crash test for hirers on demand, as production sees it: the sandbox, the receiver and the
proxy run as their own processes; the `seek-sync sync` process that pushes is SIGKILLed by the
sandbox half-way through streaming an on-demand file from SEEK (its first fetch at push time,
after the files stage read every file once); the next ticks settle it, every file is at its fake
exactly once, and no blob was ever stored for those hirers."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from seek_sync.process_stack import ProcessStack, process_stack
from seek_sync.store.blobs import BlobStore
from tests.dagster.crash_helpers import audit, kill_rules, leftovers, sync_until_settled

# Small files go inline (streamed from SEEK through memory), the others by a proxy URL.
WORLD = ("--applications", "12", "--hirers", "4", "--seed", "11", "--no-edge-cases")
LIMITS = {
    "SEEK_SYNC_ONDERWIJSREGIO_DATA_LIMIT_BYTES": "100000",
    "SEEK_SYNC_KOMBO_DATA_LIMIT_BYTES": "100000",
}


def test_a_push_killed_mid_stream_on_demand_settles_every_file_once(tmp_path: Path) -> None:
    with process_stack(tmp_path / "home", *WORLD, extra_env=LIMITS, on_demand=True) as stack:
        mapped = [h for h in stack.admin("GET", "/_sandbox/summary")["hirers"] if h["relationship"]]
        on_demand = _on_demand(stack)
        assert {stack.targets[h] for h in on_demand} == {"onderwijsregio", "kombo"}
        # The files stage reads each mapped hirer's file once; the next read is a push's.
        downloads = sum(h["attachments"] for h in mapped)
        assert downloads > 0
        process = stack.seek_sync("sync")
        rule = {"endpoint": "attachment", "kind": "kill", "callers": [process.pid]}
        stack.admin("POST", "/_sandbox/faults", [rule | {"skip": downloads}])
        process.communicate(timeout=170)
        assert process.returncode == -9  # killed by the sandbox, mid-stream
        assert kill_rules(stack) == set()  # the rule fired (and was used up)
        home = Path(stack.env["SEEK_SYNC_HOME"])
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as db:
            (recorded,) = db.execute("SELECT COUNT(*) FROM attachment_files").fetchone() or (0,)
        assert recorded == downloads  # the files stage had ended: the kill hit a push's stream
        stack.admin("DELETE", "/_sandbox/faults")
        stack.wait_idle()

        sync_until_settled(stack)
        result = audit(stack)
        assert result.problems == []
        assert result.counts["onderwijsregio"] > 0 and result.counts["kombo"] > 0
        assert leftovers(stack) == []
        blobs = BlobStore((home / "blobs").resolve().as_uri())
        assert [blobs.holds(h) for h in on_demand] == [0, 0]
        stored = [h for h in stack.targets if h not in on_demand]
        assert any(blobs.holds(h) for h in stored)  # positive control


def _on_demand(stack: ProcessStack) -> list[str]:
    """The hirers the map makes on demand."""
    path = Path(stack.env["SEEK_SYNC_HIRER_TARGETS_PATH"])
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["hirers"]
    return sorted(h for h, e in entries.items() if e.get("attachments") == "on_demand")
