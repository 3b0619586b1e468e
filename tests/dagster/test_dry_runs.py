"""Jobs that delete open in the Launchpad as dry runs; their schedules say `dry_run: false`."""

from __future__ import annotations

import dagster as dg

from seek_sync.assets.dry_runs import NOTE_TAG
from seek_sync.assets.privacy import NOT_REPEATABLE
from seek_sync.definitions import defs
from seek_sync.local_stack import LocalStack

DELETING = {"purge": "purge_data", "retention": "apply_retention_limits",
            "seek_deletions": "follow_seek_deletions",
            "reapply_tombstones": "reapply_purges"}  # fmt: skip


def _dry_run_default(job: str, op: str) -> object:
    node = defs.resolve_job_def(job).graph.node_named(op)
    field = node.definition.config_schema.as_field().config_type.fields["dry_run"]  # type: ignore[union-attr]
    return field.default_value


def test_jobs_that_delete_default_to_a_dry_run() -> None:
    assert {job: _dry_run_default(job, op) for job, op in DELETING.items()} == dict.fromkeys(
        DELETING, True
    )


def test_schedules_that_delete_pass_dry_run_false_explicitly() -> None:
    found = {}
    for name in ("retention_daily", "seek_deletions_hourly"):
        schedule = defs.resolve_schedule_def(name)
        with dg.build_schedule_context() as context:
            [request] = schedule.evaluate_tick(context).run_requests or []
        op = DELETING[schedule.job_name]
        found[name] = request.run_config["ops"][op]["config"]["dry_run"]
    assert found == {"retention_daily": False, "seek_deletions_hourly": False}


def test_an_email_request_run_again_without_its_email_says_why_instead_of_failing(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    """As a re-execution from the UI: the config names an email token no process holds."""
    config = {"ops": {"purge_data": {"config": {"email_token": "gone", "dry_run": False}}}}
    result = defs.resolve_job_def("purge").execute_in_process(run_config=config, instance=instance)
    tags = instance.get_run_by_id(result.run_id).tags  # type: ignore[union-attr]
    assert result.success
    assert result.output_for_node("purge_data").profiles == 0
    assert tags[NOTE_TAG] == NOT_REPEATABLE and "cannot be re-executed" in NOT_REPEATABLE
