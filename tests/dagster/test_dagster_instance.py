"""Dagster's instance on PostgreSQL: the file a server-backend home gets, the driver its event
writes need (SQLAlchemy 2.1 gives a bare `postgresql` to psycopg 3), and a schema per home, so
homes sharing one database never see each other's runs. PostgreSQL: a private database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import sqlalchemy.exc
import yaml

from seek_sync.dagster_instance import (
    DAGSTER_YAML,
    INSTANCE_ENV,
    POSTGRES_YAML,
    DagsterDatabase,
    instance_yaml,
    make_home,
)
from seek_sync.local_stack import local_stack, patched_environ
from seek_sync.process_stack import process_stack
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.settings import SettingsError
from tests.services import database_url, private_database

DAGSTER = str(Path(sys.executable).parent / "dagster")


@dg.op
def one() -> int:
    return 1


@dg.job
def tiny() -> None:
    one()


def server(database: str, schema: str) -> dict[str, str]:
    """The settings that choose the server backend, with `schema` for the project's tables."""
    return {
        "SEEK_SYNC_DATABASE_URL": database_url(database, "psycopg"),
        "SEEK_SYNC_DATABASE_SCHEMA": schema,
    }


@contextmanager
def instance_of(env: dict[str, str]) -> Iterator[dg.DagsterInstance]:
    """The instance of the home that `env` (from `make_home`) names, with its variables set."""
    with patched_environ(env), dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        yield instance


def tables_by_schema(database: str) -> dict[str, set[str]]:
    with psycopg.connect(database_url(database)) as connection:
        rows = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    found: dict[str, set[str]] = {}
    for schema, table in rows:
        found.setdefault(schema, set()).add(table)
    return found


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with private_database("seek_sync_dagster") as name:
        yield name


@pytest.fixture(scope="module")
def home_a(database: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("a") / "dagster"
    return make_home(path, server(database, "home_a"), fresh=True)


def test_instance_info_shows_storage_on_postgresql(home_a: dict[str, str], tmp_path: Path) -> None:
    shown = subprocess.run(
        [DAGSTER, "instance", "info"],
        env={**os.environ, **home_a},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    for line in (
        "run_storage: PostgresRunStorage",
        "event_log_storage: PostgresEventLogStorage",
        "schedule_storage: PostgresScheduleStorage",
    ):
        assert line in shown.stdout


def test_a_runs_events_are_written_and_read_back(home_a: dict[str, str], database: str) -> None:
    with instance_of(home_a) as instance:
        result = tiny.execute_in_process(instance=instance)
        assert result.success
        written = {event.dagster_event_type for event in instance.all_logs(result.run_id)}
        assert {dg.DagsterEventType.STEP_OUTPUT, dg.DagsterEventType.RUN_SUCCESS} <= written
        instance.report_runless_asset_event(dg.AssetMaterialization("probe"))
        assert instance.get_latest_materialization_event(dg.AssetKey("probe")) is not None
    tables = tables_by_schema(database)
    assert {"runs", "event_logs", "jobs"} <= tables["home_a_dagster"]  # Dagster's own schema
    assert "public" not in tables  # nothing landed outside it


def test_a_bare_postgresql_scheme_fails_the_first_event_write(
    home_a: dict[str, str], tmp_path: Path
) -> None:
    """Positive control of the test above: the driver trap is real in this environment."""
    text = (Path(home_a["DAGSTER_HOME"]) / "dagster.yaml").read_text(encoding="utf-8")
    assert "scheme: postgresql+psycopg2\n" in text
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "dagster.yaml").write_text(
        text.replace("scheme: postgresql+psycopg2\n", "scheme: postgresql\n"), encoding="utf-8"
    )
    with (
        instance_of(home_a | {"DAGSTER_HOME": str(bare)}) as instance,
        pytest.raises(sqlalchemy.exc.ProgrammingError, match="NOTIFY"),
    ):
        instance.report_runless_asset_event(dg.AssetMaterialization("trap"))


def test_homes_with_their_own_schemas_do_not_see_each_others_runs(
    home_a: dict[str, str], database: str, tmp_path: Path
) -> None:
    home_b = make_home(tmp_path / "b", server(database, "home_b"), fresh=True)
    run_ids = {}
    for name, home in (("a", home_a), ("b", home_b)):
        with instance_of(home) as instance:
            run_ids[name] = tiny.execute_in_process(instance=instance).run_id
    with instance_of(home_a) as instance:
        seen_a = {run.run_id for run in instance.get_runs()}
    with instance_of(home_b) as instance:
        assert {run.run_id for run in instance.get_runs()} == {run_ids["b"]}
    assert run_ids["a"] in seen_a and run_ids["b"] not in seen_a
    # A home made again keeps its instance; a fresh one (demo, dev, bench) drops only its own.
    make_home(tmp_path / "b2", server(database, "home_b"))
    with instance_of(home_b) as instance:
        assert len(instance.get_runs()) == 1
    make_home(tmp_path / "b3", server(database, "home_b"), fresh=True)
    with instance_of(home_b) as instance:
        assert instance.get_runs() == []
    with instance_of(home_a) as instance:
        assert run_ids["a"] in {run.run_id for run in instance.get_runs()}


def test_a_fresh_stack_never_drops_a_schema_it_did_not_make(database: str, tmp_path: Path) -> None:
    with psycopg.connect(database_url(database), autocommit=True) as connection:
        connection.execute("CREATE SCHEMA deployed_dagster")  # as an operator makes it
        connection.execute("CREATE TABLE deployed_dagster.runs (id int)")
    with pytest.raises(SettingsError, match="deployed_dagster was not made by a demo"):
        make_home(tmp_path / "demo", server(database, "deployed"), fresh=True)
    make_home(tmp_path / "worker", server(database, "deployed"))  # a second home: kept as is
    assert "runs" in tables_by_schema(database)["deployed_dagster"]


def test_the_instance_file_names_no_secret_host_or_port() -> None:
    url = "postgresql+psycopg://svc_dagster:pa%2Fss%40w0rd@db.internal.example:6543/seekdb"
    environ = {"SEEK_SYNC_DATABASE_URL": url + "?sslmode=require"}
    chosen = DagsterDatabase.chosen(environ | {"SEEK_SYNC_DATABASE_SCHEMA": "tenant1"})
    assert chosen is not None
    text = instance_yaml(chosen)
    literals = ("svc_dagster", "pa/ss@w0rd", "pa%2Fss", "db.internal.example", "6543", "seekdb")
    assert [literal for literal in literals if literal in text] == []
    db = yaml.safe_load(text)["storage"]["postgres"]["postgres_db"]
    assert db.pop("scheme") == "postgresql+psycopg2"
    assert db.pop("params") == {"sslmode": "require", "options": "-csearch_path=tenant1_dagster"}
    assert sorted(field["env"] for field in db.values()) == sorted(INSTANCE_ENV)
    assert chosen.environment() == {
        "DAGSTER_PG_USERNAME": "svc_dagster",
        "DAGSTER_PG_PASSWORD": "pa/ss@w0rd",
        "DAGSTER_PG_HOST": "db.internal.example",
        "DAGSTER_PG_PORT": "6543",
        "DAGSTER_PG_DB": "seekdb",
    }
    # The pools and run limits are the embedded file's, written once.
    assert {k: v for k, v in yaml.safe_load(text).items() if k != "storage"} == yaml.safe_load(
        DAGSTER_YAML.read_text(encoding="utf-8")
    )
    shipped = POSTGRES_YAML.read_text(encoding="utf-8")
    assert "://" not in shipped and "127.0.0.1" not in shipped and "localhost" not in shipped
    with pytest.raises(SettingsError, match=r"DATABASE_URL.*host"):
        DagsterDatabase.chosen({"SEEK_SYNC_DATABASE_URL": url + "?host=/run/postgresql"})


def test_an_embedded_home_gets_the_projects_file_only(tmp_path: Path) -> None:
    env = make_home(tmp_path / "dagster", {"SEEK_SYNC_HOME": str(tmp_path)})
    assert env == {"DAGSTER_HOME": str(tmp_path / "dagster")}
    written = (tmp_path / "dagster" / "dagster.yaml").read_text(encoding="utf-8")
    assert written == DAGSTER_YAML.read_text(encoding="utf-8")


def test_the_local_stack_on_the_server_backend_uses_postgresql(tmp_path: Path) -> None:
    config = SandboxConfig(applications=2, hirers=1, edge_cases=False)
    with private_database("seek_sync_dagster") as name:
        env = server(name, "stack")
        with local_stack(tmp_path / "home", config, extra_env=env) as stack:
            assert set(INSTANCE_ENV) <= set(stack.environment)
            with dg.DagsterInstance.get() as instance:
                assert type(instance.run_storage).__name__ == "PostgresRunStorage"
                assert instance.get_runs() == []
        assert "stack_dagster" in tables_by_schema(name)


def test_a_sync_process_of_the_process_stack_runs_on_postgresql(tmp_path: Path) -> None:
    world = ("--applications", "3", "--hirers", "1", "--no-edge-cases")
    with private_database("seek_sync_dagster") as name:
        env = server(name, "procs")
        with process_stack(tmp_path / "home", *world, extra_env=env) as stack:
            sync = stack.seek_sync("sync")
            _, err = sync.communicate(timeout=240)
            assert sync.returncode == 0, err[-2000:]
            with stack.instance() as instance:
                assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
                runs = instance.get_runs()
                assert runs and {run.status for run in runs} == {dg.DagsterRunStatus.SUCCESS}
