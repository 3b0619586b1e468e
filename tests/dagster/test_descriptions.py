"""Every job, sensor, schedule and asset check of the code location says what it is: the UI shows
the description where it lists them (and only a tooltip otherwise). Loading the definitions warns
of nothing (a warning on every start teaches people to ignore warnings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from seek_sync.definitions import defs
from seek_sync.local_stack import PROJECT_ROOT


def _missing(items: dict[str, str | None]) -> list[str]:
    return sorted(name for name, text in items.items() if not (text or "").strip())


def test_every_job_sensor_schedule_and_check_has_a_description() -> None:
    jobs = {
        j.name: j.description for j in defs.resolve_all_job_defs() if not j.name.startswith("__")
    }
    sensors = {s.name: s.description for s in defs.sensors or []}
    schedules = {s.name: s.description for s in defs.schedules or []}
    checks = {
        spec.name: spec.description
        for checks_def in defs.asset_checks or []
        if isinstance(checks_def, dg.AssetChecksDefinition)
        for spec in checks_def.check_specs
    }
    assert {"hirer_batch", "purge", "retention"} <= set(jobs)
    assert sensors and schedules and len(checks) >= 5
    assert _missing(jobs | sensors | schedules | checks) == []


def test_loading_the_definitions_warns_of_nothing(tmp_path: Path) -> None:
    code = (
        "import warnings; warnings.simplefilter('always')\n"
        "from seek_sync.definitions import defs\n"
        "defs.resolve_all_job_defs(); [defs.resolve_sensor_def(s.name) for s in defs.sensors]\n"
        "defs.get_repository_def()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr


def test_no_dagster_yaml_at_the_project_root_for_dagster_dev_to_call_ignored() -> None:
    assert not (PROJECT_ROOT / "dagster.yaml").exists()
    assert (PROJECT_ROOT / "dagster-instance.yaml").is_file()
