"""The warehouse on both backends: idempotent batched upserts, hirer on every row, one
transaction per batch; the DuckDB file's lock waits."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pandas as pd
import pytest

from seek_sync.backend import open_warehouse
from seek_sync.settings import WarehouseFields, load
from seek_sync.store.warehouse import TABLES, Warehouse
from seek_sync.store.warehouse_duckdb import DuckDBWarehouse
from seek_sync.store.warehouse_schema import OWN_TABLES
from tests.backends import Backend


def manifest(hirer: str, count: int, role: str = "Resume") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "attachment_id": [f"{hirer}-att-{i}" for i in range(count)],
            "hirer_id": hirer,
            "profile_id": [f"{hirer}-profile-{i // 3}" for i in range(count)],
            "role": role,
            "url": [
                f"https://graphql.seek.com/anz/applications/x/attachments/{i}" for i in range(count)
            ],
            "descriptions": "[]",
        }
    )


def warehouse_of(backend: Backend) -> Warehouse:
    return open_warehouse(load(WarehouseFields, **backend.overrides))


def test_schema_has_every_dataset(backend: Backend) -> None:
    warehouse = warehouse_of(backend)
    listing = (
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    )
    tables = set(warehouse.query(listing)["table_name"])
    assert tables == {*OWN_TABLES, "schema_versions"} and set(TABLES) <= tables
    assert warehouse.versions() == (2, 2)


def test_upsert_is_idempotent(backend: Backend) -> None:
    warehouse = warehouse_of(backend)
    assert warehouse.upsert("attachment_manifest", manifest("h1", 10)) == 10
    warehouse.upsert("attachment_manifest", manifest("h1", 10))
    warehouse.upsert("attachment_manifest", manifest("h1", 4, role="CoverLetter"))
    rows = warehouse.query("SELECT role, count(*) AS n FROM attachment_manifest GROUP BY role")
    assert dict(zip(rows["role"], rows["n"], strict=True)) == {"Resume": 6, "CoverLetter": 4}


def test_a_batch_replaces_rows_by_key_and_keeps_types(backend: Backend) -> None:
    """Duplicate keys in one batch: the last wins; timestamps, integers with gaps and booleans
    arrive as the same values on both backends."""
    warehouse = warehouse_of(backend)
    at = pd.Timestamp("2026-12-01T10:00:00Z")
    rows = [
        {"attachment_id": "a1", "target": "kombo", "hirer_id": "h1", "state": "pending",
         "attempts": 1, "outcome_unknown": False, "updated_at": at},
        {"attachment_id": "a1", "target": "kombo", "hirer_id": "h1", "state": "confirmed",
         "attempts": None, "outcome_unknown": True, "updated_at": at},
        {"attachment_id": "a2", "target": "kombo", "hirer_id": "h1", "state": "pending",
         "attempts": 3, "outcome_unknown": None, "updated_at": "2026-12-02T00:00:00+00:00"},
    ]  # fmt: skip
    warehouse.upsert("ats_uploads", pd.DataFrame(rows))
    got = warehouse.query(
        "SELECT attachment_id, state, attempts, outcome_unknown, "
        "CAST(EXTRACT(EPOCH FROM updated_at) AS BIGINT) AS t FROM ats_uploads ORDER BY 1"
    )
    assert list(got["state"]) == ["confirmed", "pending"]
    assert pd.isna(got["attempts"][0]) and int(got["attempts"][1]) == 3
    assert bool(got["outcome_unknown"][0]) is True
    assert [int(t) for t in got["t"]] == [int(at.timestamp()), 1796169600]


def test_rows_without_a_hirer_are_refused_and_nothing_is_written(backend: Backend) -> None:
    warehouse = warehouse_of(backend)
    bad = manifest("h1", 3)
    bad.loc[1, "hirer_id"] = None
    with pytest.raises(ValueError, match="hirer_id"):
        warehouse.upsert("attachment_manifest", bad)
    assert warehouse.query("SELECT count(*) AS n FROM attachment_manifest")["n"][0] == 0


def test_a_failing_batch_leaves_no_partial_rows(backend: Backend) -> None:
    warehouse = warehouse_of(backend)
    warehouse.upsert("hirers", [{"hirer_id": "h1", "name": "one"}])
    bad = manifest("h1", 3)
    bad.loc[2, "url"] = None  # url is NOT NULL
    batch = {"hirers": pd.DataFrame([{"hirer_id": "h2"}]), "attachment_manifest": bad}
    with pytest.raises(Exception, match=r"(?i)not.null"), warehouse.session() as session:
        session.upsert_many(batch)
    assert warehouse.query("SELECT count(*) AS n FROM attachment_manifest")["n"][0] == 0
    assert list(warehouse.query("SELECT hirer_id FROM hirers")["hirer_id"]) == ["h1"]


def _hold_lock(path: str, seconds: float, ready: multiprocessing.synchronize.Event) -> None:
    import duckdb

    connection = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    connection.close()


def test_waits_while_another_process_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    DuckDBWarehouse(path).upsert("attachment_manifest", manifest("h1", 1))
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_lock, args=(str(path), 1.5, ready))
    holder.start()
    assert ready.wait(30)
    started = time.perf_counter()
    DuckDBWarehouse(path).upsert("attachment_manifest", manifest("h2", 5))
    waited = time.perf_counter() - started
    holder.join(10)
    assert waited > 0.5  # it really waited for the other process, then wrote
    assert DuckDBWarehouse(path).query("SELECT count(*) AS n FROM attachment_manifest")["n"][0] == 6


def test_batched_write_speed_is_reported(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = warehouse_of(backend)
    frame = manifest("h1", 100_000)
    started = time.perf_counter()
    warehouse.upsert("attachment_manifest", frame)
    seconds = time.perf_counter() - started
    assert warehouse.query("SELECT count(*) AS n FROM attachment_manifest")["n"][0] == 100_000
    with capsys.disabled():
        print(
            f"\n{backend.name}: 100,000 manifest rows upserted in {seconds:.2f} s "
            f"({100_000 / seconds:,.0f}/s)"
        )
