"""The schema-version rule on the embedded dialects (the server's runs in the backend tests)."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from seek_sync.db.migrations import (
    Migration,
    On,
    SchemaError,
    current_version,
    ensure,
    statements,
    upgrade,
)

MIGRATIONS = [
    Migration(1, "baseline", statements("CREATE TABLE things (id INTEGER PRIMARY KEY)")),
    Migration(2, "a name", statements("ALTER TABLE things ADD COLUMN name VARCHAR")),
]


@pytest.fixture(params=["sqlite", "duckdb"])
def dialect(request: pytest.FixtureRequest) -> On:
    if request.param == "sqlite":
        return On("sqlite", sqlite3.connect(":memory:"))
    return On("duckdb", duckdb.connect(":memory:"))


def test_a_new_database_gets_every_version_once(dialect: On) -> None:
    assert ensure(dialect, "things", MIGRATIONS, may_upgrade=True) == [1, 2]
    assert ensure(dialect, "things", MIGRATIONS, may_upgrade=True) == []
    assert current_version(dialect, "things") == 2
    dialect.execute("INSERT INTO things (id, name) VALUES (1, 'x')")


def test_an_older_schema_is_refused_in_one_line_where_it_may_not_upgrade(dialect: On) -> None:
    upgrade(dialect, "things", MIGRATIONS[:1])
    with pytest.raises(SchemaError) as refused:
        ensure(dialect, "things", MIGRATIONS, may_upgrade=False)
    assert str(refused.value).count("\n") == 0
    assert "version 1" in str(refused.value) and "seek-sync db upgrade" in str(refused.value)
    with pytest.raises(SchemaError):  # not empty: is_empty applies only at version 0
        ensure(dialect, "things", MIGRATIONS, may_upgrade=False, is_empty=lambda: True)


def test_an_empty_server_database_is_created_and_a_newer_schema_refused(dialect: On) -> None:
    assert ensure(dialect, "things", MIGRATIONS, may_upgrade=False, is_empty=lambda: True) == [1, 2]
    with pytest.raises(SchemaError, match="newer than this release"):
        ensure(dialect, "things", MIGRATIONS[:1], may_upgrade=True)


def test_versions_are_per_component(dialect: On) -> None:
    upgrade(dialect, "things", MIGRATIONS)
    assert current_version(dialect, "other") == 0
