"""Each asset check is declared once (`assets/checks.py`): Dagster's asset checks and the batched
runs' evaluations both come from that declaration, and no check name is written as a string."""

from __future__ import annotations

import ast
from pathlib import Path

import dagster as dg

import seek_sync
from seek_sync.assets.checks import CHECKS
from seek_sync.definitions import defs
from seek_sync.jobs import hirer_batch
from seek_sync.local_stack import LocalStack
from tests.dagster.conftest import drive_until_settled

PACKAGE = Path(seek_sync.__file__).parent


def test_the_asset_checks_are_the_declared_ones() -> None:
    declared = {(c.asset, c.name, c.blocking) for c in CHECKS}
    specs = [spec for checks in defs.asset_checks or [] for spec in checks.check_specs]
    assert {(s.asset_key.to_user_string(), s.name, s.blocking) for s in specs} == declared
    assert len(declared) == len(specs) == 6


def strings_naming(names: set[str], tree: ast.AST) -> list[str]:
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and any(name in node.value for name in names)
    ]


def test_no_check_name_is_written_as_a_string_in_the_package() -> None:
    names = {c.name for c in CHECKS}
    found = {
        str(path.relative_to(PACKAGE)): strings
        for path in sorted(PACKAGE.rglob("*.py"))
        if (strings := strings_naming(names, ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert found == {}
    # Positive control: the search sees a name inside a longer string.
    tree = ast.parse('KEY = ("ats_uploads", "x hirer_is_not_failing")')
    assert strings_naming(names, tree) == ["x hirer_is_not_failing"]


def test_a_batched_run_evaluates_every_declared_check_with_its_severity(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    drive_until_settled(stack, instance)
    runs = instance.get_run_records(dg.RunsFilter(job_name=hirer_batch.name))
    assert runs
    seen: dict[tuple[str, str], set[dg.AssetCheckSeverity]] = {}
    for run in runs:
        for entry in instance.all_logs(
            run.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ):
            assert entry.dagster_event is not None
            evaluation = entry.dagster_event.event_specific_data
            assert isinstance(evaluation, dg.AssetCheckEvaluation)
            assert evaluation.partition is not None  # one per hirer
            key = (evaluation.asset_key.to_user_string(), evaluation.check_name)
            seen.setdefault(key, set()).add(evaluation.severity)
    assert seen == {(c.asset, c.name): {c.severity} for c in CHECKS}
