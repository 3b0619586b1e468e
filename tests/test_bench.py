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
    "sandbox_rss_growth_per_received_byte",
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
    assert result["sandbox_rss_growth_per_received_byte"] >= 0


def test_floor_bench_compares_the_library_client_with_a_bare_aiohttp_one() -> None:
    done = subprocess.run(
        [*COMMAND, "--floor", "--applications", "12", "--hirers", "2", "--rounds", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["profiles"] >= 12 and result["downloads"] >= 12 and result["download_bytes"] > 0
    for side in ("library", "floor"):
        assert result[side]["profiles_per_s"] > 0 and result[side]["download_mb_per_s"] > 0
    for key in ("profiles_ratio", "downloads_ratio", "profiles_cpu_ratio", "downloads_cpu_ratio"):
        assert result[key] > 0


def test_trickle_smoke_times_each_application_on_the_loop() -> None:
    # The loop's interval is far beyond the settle timeout: it settles only because each stored
    # webhook and callback wakes it.
    trickle = ["--trickle", "2", "--duration", "2", "--hirers", "3", "--interval", "300"]
    trickle += ["--settle-timeout", "60", "--idle-window", "1"]
    done = subprocess.run(
        [*COMMAND, *trickle, "--paths", "loop", "--json"],
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["applications"] == 4
    assert set(result) >= {"loop"} and "cluster" not in result  # only the paths asked for
    figures = result["loop"]  # the floor and the daemon take longer: the bench's own runs
    assert figures["applications"] == 4 and figures["unsettled"] == 0, figures
    for key in ("accepted_s", "confirmed_s"):
        assert set(figures[key]) == {"p50", "p95", "p99", "max"}
        assert 0 < figures[key]["p50"] <= figures[key]["max"], figures
    assert figures["confirmed_s"]["max"] >= figures["accepted_s"]["p50"]
    assert figures["cpu_s_per_application"] > 0 and figures["peak_rss_mb"] > 0
    assert figures["idle_cpu_percent"] >= 0
