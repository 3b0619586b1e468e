"""The DuckDB warehouse: idempotent batched upserts, hirer on every row, lock waits."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pandas as pd
import pytest

from seek_sync.store.warehouse import TABLES, Warehouse


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


def test_schema_has_every_dataset(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    with warehouse.connect() as connection:
        tables = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
    assert tables == set(TABLES)


def test_upsert_is_idempotent(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    assert warehouse.upsert("attachment_manifest", manifest("h1", 10)) == 10
    warehouse.upsert("attachment_manifest", manifest("h1", 10))
    warehouse.upsert("attachment_manifest", manifest("h1", 4, role="CoverLetter"))
    rows = warehouse.query("SELECT role, count(*) AS n FROM attachment_manifest GROUP BY role")
    assert dict(zip(rows["role"], rows["n"], strict=True)) == {"Resume": 6, "CoverLetter": 4}


def test_rows_without_a_hirer_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    bad = manifest("h1", 3)
    bad.loc[1, "hirer_id"] = None
    with pytest.raises(ValueError, match="hirer_id"):
        warehouse.upsert("attachment_manifest", bad)
    assert warehouse.query("SELECT count(*) AS n FROM attachment_manifest")["n"][0] == 0


def test_a_failing_batch_leaves_no_partial_rows(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    bad = manifest("h1", 3)
    bad.loc[2, "url"] = None  # url is NOT NULL
    with pytest.raises(Exception, match="NOT NULL"):
        warehouse.upsert("attachment_manifest", bad)
    assert warehouse.query("SELECT count(*) AS n FROM attachment_manifest")["n"][0] == 0


def _hold_lock(path: str, seconds: float, ready: multiprocessing.synchronize.Event) -> None:
    import duckdb

    connection = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    connection.close()


def test_waits_while_another_process_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    Warehouse(path).upsert("attachment_manifest", manifest("h1", 1))
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_lock, args=(str(path), 1.5, ready))
    holder.start()
    assert ready.wait(30)
    started = time.perf_counter()
    Warehouse(path).upsert("attachment_manifest", manifest("h2", 5))
    waited = time.perf_counter() - started
    holder.join(10)
    assert waited > 0.5  # it really waited for the other process, then wrote
    assert Warehouse(path).query("SELECT count(*) AS n FROM attachment_manifest")["n"][0] == 6


def test_batched_write_speed_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    frame = manifest("h1", 100_000)
    started = time.perf_counter()
    warehouse.upsert("attachment_manifest", frame)
    seconds = time.perf_counter() - started
    assert warehouse.query("SELECT count(*) AS n FROM attachment_manifest")["n"][0] == 100_000
    with capsys.disabled():
        print(f"\n100,000 manifest rows upserted in {seconds:.2f} s ({100_000 / seconds:,.0f}/s)")
