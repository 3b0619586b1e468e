"""What the UI shows of each hirer and dataset: partitions keyed by the hirer's name, totals on
every materialization, the hirer's key in tags and its name in previews, one check result per
hirer (ranges too), and the catalog's schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from seek_sync.assets.catalog import PERSONAL_DATA, column_schema
from seek_sync.definitions import defs
from seek_sync.hirer_slugs import KEY_PX, make_key, width
from seek_sync.ids import hirer_token
from seek_sync.jobs import hirer_sync
from seek_sync.local_stack import LocalStack
from seek_sync.partitions import HIRER_TAG, HIRERS_TAG, hirer_partitions
from seek_sync.pipeline.checks import unsettled_uploads
from seek_sync.runstate.hirer_keys import HirerKeys
from seek_sync.schedules import RANGE_END, RANGE_START
from seek_sync.store.warehouse import TABLES
from seek_sync.store.warehouse_duckdb import DuckDBWarehouse
from tests.dagster.conftest import drive_until_settled, inbox_of, warehouse_of

PARTITIONED = [t for t in TABLES if t != "hirers"]


def _latest(instance: dg.DagsterInstance, key: str, hirer: str) -> dict[str, object]:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[hirer]), limit=1
    ).records
    assert records, (key, hirer)
    materialization = records[0].asset_materialization
    assert materialization is not None
    return {k: v.value for k, v in materialization.metadata.items()}


def _names(stack: LocalStack) -> dict[str, str]:
    return {h.id: h.name for h in stack.sandbox.state.world.hirers.values()}


def test_latest_materializations_carry_totals_names_and_run_tags(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    drive_until_settled(stack, instance)
    names = _names(stack)
    keys = HirerKeys(inbox_of(stack)).all()
    partitions = list(instance.get_dynamic_partitions(hirer_partitions.name))
    assert partitions and sorted(partitions) == sorted(keys.values())
    for hirer_id, key in keys.items():  # the name's slug, then the id's tail
        assert key == make_key(hirer_id, names[hirer_id]) and width(key) <= KEY_PX, key
        assert key.endswith(hirer_token(hirer_id)[-4:]) and not key.startswith("hirer-")
    _assert_current_per_hirer(instance, partitions)  # the batched runs' evaluations
    # A one-hirer run from the UI after everything settled: the pass changes nothing, and its
    # materializations still say where the hirer stands.
    quiet = sorted(keys)[0]
    result = defs.resolve_job_def(hirer_sync.name).execute_in_process(
        instance=instance, partition_key=keys[quiet]
    )
    assert result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None and run.tags[HIRERS_TAG] == "1", run.tags
    assert HIRER_TAG not in run.tags  # `dagster/partition` names it already

    totals = warehouse_of(stack).query(
        " UNION ALL ".join(
            f"SELECT '{t}' AS t, hirer_id, COUNT(*) AS n FROM {t} GROUP BY ALL"
            for t in ("ats_uploads", "attachment_files", "candidate_profiles")
        )
    )
    for table, hirer_id, rows in totals.itertuples(index=False):
        meta = _latest(instance, table, keys[hirer_id])
        assert meta["dagster/row_count"] == rows, (table, hirer_id, meta)
        assert sum(meta["by_state"].values()) == rows  # type: ignore[attr-defined]
        assert meta["hirer"] == f"{names[hirer_id]} ({hirer_token(hirer_id)})"
        assert names[hirer_id] in str(meta["preview"])
        if hirer_id == quiet:
            assert meta["rows_new"] == 0 and rows > 0
    stored = _latest(instance, "attachment_files", keys[quiet])
    assert stored["bytes_stored"] > 0 and str(stored["size_stored"]).endswith("B")  # type: ignore[operator]

    sensor_runs = [r for r in instance.get_runs() if r.job_name == "hirer_batch"]
    assert sensor_runs and all(int(r.tags[HIRERS_TAG]) > 0 for r in sensor_runs)
    for run in sensor_runs:  # a run of one hirer is tagged with its key, of more with none
        alone = run.tags[HIRERS_TAG] == "1"
        assert run.tags.get(HIRER_TAG) in (set(partitions) if alone else {None}), run.tags


def test_a_range_run_records_each_hirers_check_under_its_partition(
    stack: LocalStack, instance: dg.DagsterInstance
) -> None:
    drive_until_settled(stack, instance)
    hirers = list(instance.get_dynamic_partitions(hirer_partitions.name))
    assert len(hirers) >= 2
    hirer_of = {k: h for h, k in HirerKeys(inbox_of(stack)).all().items()}
    tags = {RANGE_START: hirers[0], RANGE_END: hirers[-1]}
    result = defs.resolve_job_def(hirer_sync.name).execute_in_process(instance=instance, tags=tags)
    assert result.success
    evaluations = [
        e.dagster_event.event_specific_data
        for e in instance.all_logs(
            result.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
        if e.dagster_event is not None
    ]
    for check in ("no_upload_needs_action", "uploads_settle_in_time"):
        mine = [e for e in evaluations if e.check_name == check]  # type: ignore[union-attr]
        by_partition = {e.partition: e for e in mine}  # type: ignore[union-attr]
        assert set(by_partition) == {*hirers, None}, (check, set(by_partition))
        for key in hirers:
            meta = by_partition[key].metadata  # type: ignore[union-attr]
            assert meta["hirer_id"].value == hirer_of[key]
        summary = by_partition[None].metadata  # type: ignore[union-attr]
        assert summary["hirers"].value == len(hirers)
    _assert_current_per_hirer(instance, hirers)


def _assert_current_per_hirer(instance: dg.DagsterInstance, hirers: list[str]) -> None:
    """What the check's Partitions tab shows: each hirer's latest result, on its latest
    materialization (an evaluation that names no target counts as never checked)."""
    for name in ("hirer_is_not_failing", "no_upload_needs_action"):
        key = dg.AssetCheckKey(dg.AssetKey("ats_uploads"), name)
        infos = instance.event_log_storage.get_asset_check_partition_info([key])
        current = {i.partition_key for i in infos if i.is_current}
        assert current >= set(hirers), (name, set(hirers) - current)


def test_unsettled_uploads_age_flags_only_files_waiting_past_the_limit(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    now = datetime.now(UTC)
    hirer, quiet = (
        "seekAnzPublicTest:organization:seek:A1",
        "seekAnzPublicTest:organization:seek:B2",
    )
    files = [
        {"attachment_id": f"f{i}", "hirer_id": hirer, "status": "stored", "downloaded_at": at}
        for i, at in enumerate([now - timedelta(hours=7), now - timedelta(hours=1), now])
    ]
    warehouse.upsert("attachment_files", files)
    uploads = [
        {"attachment_id": "f1", "target": "kombo", "hirer_id": hirer, "state": "accepted"},
        {"attachment_id": "f2", "target": "kombo", "hirer_id": hirer, "state": "confirmed"},
    ]
    warehouse.upsert("ats_uploads", uploads)

    outcomes = unsettled_uploads(warehouse, [hirer, quiet], timedelta(hours=6))
    late = outcomes[hirer]
    assert not late.passed and late.examples == ["f0"]
    assert late.counts == {"not_pushed": 1, "accepted": 1}
    assert 419 < late.measures["oldest_unsettled_minutes"] < 421
    assert outcomes[quiet].passed and outcomes[quiet].measures["oldest_unsettled_minutes"] == 0

    warehouse.upsert("ats_uploads", [{**uploads[0], "attachment_id": "f0", "state": "rejected"}])
    assert unsettled_uploads(warehouse, [hirer], timedelta(hours=6))[hirer].passed


def test_the_catalog_describes_each_table_as_the_warehouse_has_it(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    warehouse.query("SELECT 1")  # creates the tables
    for table in TABLES:
        spec = next(s for a in defs.assets for s in a.specs if s.key == dg.AssetKey(table))  # type: ignore[union-attr]
        actual = warehouse.query(
            "SELECT column_name, lower(data_type) AS type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        )
        schema = spec.metadata["dagster/column_schema"]
        assert schema == column_schema(table)
        assert [(c.name, c.type) for c in schema.columns] == [
            (n, t.replace("timestamp with time zone", "timestamptz"))
            for n, t in actual.itertuples(index=False)
        ]
        assert all(c.description for c in schema.columns), table
        assert spec.owners == ["team:seek-sync"]
        assert spec.tags.get("personal_data") == PERSONAL_DATA.get(table)
        assert "dagster/code_references" in spec.metadata
    assert PERSONAL_DATA["candidate_profiles"] == PERSONAL_DATA["attachment_files"] == "direct"
