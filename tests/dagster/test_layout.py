"""The layout Dagster's tools expect, and the env file `seek-sync dev` leaves a second shell.

`dg check defs` and a bare `dagster definitions validate` must load the code location from the
project root (workspace.yaml, [tool.dagster], [tool.dg]) with no setting in the environment:
resources read settings only when a run or tick executes.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from seek_sync.definitions import defs
from seek_sync.local_stack import (
    PROJECT_ROOT,
    WORKSPACE_YAML,
    LocalStack,
    dev_banner,
    dev_env_file,
    quiet_run_logs,
    write_env_file,
)

BIN = Path(sys.executable).parent
SECRET_KEYS = (
    "SEEK_SYNC_SEEK_CLIENT_SECRET",
    "SEEK_SYNC_SEEK_WEBHOOK_SECRET",
    "SEEK_SYNC_ONDERWIJSREGIO_CALLBACK_SECRET",
    "SEEK_SYNC_BLOB_SIGNING_SECRET",
    "SEEK_SYNC_SANDBOX_OR_API_KEY",
    "SEEK_SYNC_SANDBOX_KOMBO_API_KEY",
)


def bare_environment(dagster_home: Path) -> dict[str, str]:
    """The caller's environment without any seek-sync setting (and a throwaway DAGSTER_HOME)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEEK_SYNC_", "DAGSTER_"))}
    return env | {"DAGSTER_HOME": str(dagster_home), "NO_COLOR": "1"}


@pytest.mark.parametrize(
    "command",
    [["dg", "check", "defs"], ["dagster", "definitions", "validate"]],
    ids=["dg-check-defs", "dagster-definitions-validate"],
)
def test_definitions_load_bare_from_the_project_root(command: list[str], tmp_path: Path) -> None:
    assert WORKSPACE_YAML.is_file()
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=PROJECT_ROOT,
        env=bare_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "successful" in output.lower() or "loaded successfully" in output


def test_env_file_is_owner_only_and_sources_back(tmp_path: Path) -> None:
    values = {"SEEK_SYNC_A": "plain", "SEEK_SYNC_B": 'it\'s $HOME `x` "q"', "DAGSTER_HOME": "/d h"}
    path = write_env_file(tmp_path / "dev" / "env.sh", values)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    shown = subprocess.run(
        ["bash", "-c", f"source {shlex.quote(str(path))} && env -0"],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        check=True,
    ).stdout.decode()
    sourced = dict(item.split("=", 1) for item in shown.split("\0") if "=" in item)
    for key, value in values.items():
        assert sourced[key] == value
    # Rewritten (a file already there with a looser mode) it is 0600 again.
    path.chmod(0o644)
    write_env_file(path, values)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_dev_env_file_holds_the_stack_settings_and_banner_no_secret(stack: LocalStack) -> None:
    path = dev_env_file(stack)
    assert path == stack.home / "env.sh"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert f"export DAGSTER_HOME={shlex.quote(str(stack.dagster_home))}" in text
    assert set(SECRET_KEYS) | {"SEEK_SYNC_HOME", "SEEK_SYNC_HIRER_TARGETS_PATH"} <= set(
        stack.environment
    )
    for key, value in stack.environment.items():  # everything the running stack set
        assert os.environ[key] == value
        assert f"export {key}={shlex.quote(value)}" in text
    assert stack.environment["DAGSTER_HOME"] == str(stack.dagster_home)

    printed = "\n".join(dev_banner(stack, path, 3000))
    for key in SECRET_KEYS:
        assert os.environ[key] not in printed, key
    assert str(stack.info["client_secret"]) not in printed
    assert "source " in printed and "env.sh" in printed
    assert "dg launch --assets" in printed and "--partition" in printed


def test_dev_runs_print_at_info_and_keep_their_events(
    stack: LocalStack, capfd: pytest.CaptureFixture[str]
) -> None:
    quiet_run_logs(stack.dagster_home)
    with dg.DagsterInstance.get() as instance:
        assert instance.python_log_level == "INFO"
        result = defs.resolve_job_def("hirers_refresh").execute_in_process(instance=instance)
        assert result.success
        stored = {
            e.dagster_event.event_type_value
            for e in instance.all_logs(result.run_id)
            if e.dagster_event is not None
        }
    printed = capfd.readouterr().err
    assert {"STEP_START", "PIPELINE_SUCCESS"} <= stored  # still in the event log and the UI
    assert "STEP_START" not in printed and "DEBUG" not in printed, printed[-2000:]
