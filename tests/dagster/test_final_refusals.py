"""Refusals final by design (an executable, an archive, a file over the size limit) are reported
by reason but keep no check failing; a failure that needs a person still fails the check (that
case: tests/dagster/test_failures_visible.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from seek_sync.file_policy import refusal
from seek_sync.local_stack import LocalStack, local_stack
from seek_sync.pipeline.refusals import final_refusal
from seek_sync.sandbox.config import SandboxConfig
from tests.dagster.conftest import drive_until_settled

CHECK = "no_upload_needs_action"


def test_the_reasons_our_policy_and_the_targets_record_are_told_apart() -> None:
    exe = refusal("application/x-dosexec", b"MZ")
    archive = refusal("application/zip", b"PK")
    found = {
        reason: final_refusal("rejected", reason)
        for reason in (
            exe,
            archive,
            "26214401 bytes is over the 25000000-byte URL limit",
            "type image/tiff is not on Onderwijsregio's allow-list",
            "the Kombo integration does not support OTHER attachments",
            "the ATS said no",  # a new kind of refusal
        )
    }
    assert list(found.values()) == [
        "executable", "archive", "over the size limit", "type not accepted",
        "kind not supported", None,
    ]  # fmt: skip
    assert final_refusal("failed", exe) is None  # given up after retries: needs a person


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    config = SandboxConfig(applications=16, hirers=4, edge_cases=True)
    with local_stack(tmp_path / "home", config) as running:
        yield running


def test_refusals_final_by_design_are_counted_but_fail_no_check(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    drive_until_settled(stack, instance)
    key = dg.AssetCheckKey(dg.AssetKey("ats_uploads"), CHECK)
    latest: dict[str, dg.AssetCheckEvaluation] = {}
    for run in instance.get_runs(ascending=True):  # type: ignore[call-arg]
        for entry in instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ):
            evaluation = entry.dagster_event.event_specific_data  # type: ignore[union-attr]
            if evaluation.asset_check_key == key:  # type: ignore[union-attr]
                hirer_id = evaluation.metadata["hirer_id"].value  # type: ignore[union-attr]
                latest[hirer_id] = evaluation  # type: ignore[index]
    assert set(latest) == set(stack.targets)
    assert [h for h, e in latest.items() if not e.passed] == []
    final = {h: e.metadata["final_by_design"].value for h, e in latest.items()}
    assert sum(final.values()) >= 3, final  # the executable, the archive, the oversized file
    kinds = " ".join(k for e in latest.values() for k in e.metadata["counts"].value)  # type: ignore[union-attr]
    assert "(executable, final)" in kinds and "(archive, final)" in kinds

    logged = [
        entry
        for run in instance.get_runs()
        for entry in instance.all_logs(run.run_id)
        if "upload(s) rejected" in entry.user_message
    ]
    assert logged and {entry.level for entry in logged} == {logging.INFO}
