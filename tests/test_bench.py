"""`seek-sync bench` runs end to end on a tiny workload (figures go in the docs, never here)."""

from __future__ import annotations

import json
import subprocess
import sys

COMMAND = [sys.executable, "-m", "seek_sync.cli", "bench"]
KEYS = {
    "ratio_dagster_library",
    "idle_tick_s",
    "peak_rss_mb",
    "sandbox_peak_rss_mb",
    "library",
    "dagster",
}


def test_bench_smoke_prints_one_json_object_with_equal_counts_at_the_fakes() -> None:
    done = subprocess.run(
        [*COMMAND, "--applications", "12", "--hirers", "2", "--interval", "0.5", "--json"],
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) >= KEYS
    for path in ("library", "dagster"):
        assert result[path]["applications_per_s"] > 0
        assert result[path]["counts"]["onderwijsregio_files"] > 0
    assert result["library"]["counts"] == result["dagster"]["counts"]  # same work at the fakes
    assert result["counts_identical"] is True
    assert result["dagster"]["runs"] >= 1 and result["idle_tick_s"] is not None
    assert result["peak_rss_mb"] > 0 and result["sandbox_peak_rss_mb"] > 0
