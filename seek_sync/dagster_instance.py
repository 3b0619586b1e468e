"""Dagster's instance file in a home: SQLite beside it (embedded), or PostgreSQL (server backend).

The embedded home holds the project's `dagster-instance.yaml` as its `dagster.yaml` (pools and
run limits). With `SEEK_SYNC_DATABASE_URL` set, `dagster-postgres.yaml` is appended: run,
event-log and schedule storage in the same database, in a schema of Dagster's own,
`<SEEK_SYNC_DATABASE_SCHEMA>_dagster`, so Dagster's tables and seek-sync's never mix. The file
names no server and holds no secret: it reads `DAGSTER_PG_*` variables, derived here (and only
here) from `SEEK_SYNC_DATABASE_URL`, with the psycopg2 driver that dagster-postgres needs.
With `SEEK_SYNC_CELERY_BROKER_URL` set too, `dagster-celery.yaml` is merged in: runs are launched
on Celery workers (`seek_sync/celery_cluster.py`). `make_home` is for the stacks of `seek-sync
demo`, `dev`, `bench`, the tests and `seek-sync worker`; with `fresh` it drops that home's Dagster
schema first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import URL, make_url

from seek_sync.celery_cluster import CeleryCluster
from seek_sync.settings import ENV_PREFIX, HomeFields, SettingsError, load

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DAGSTER_YAML = PROJECT_ROOT / "dagster-instance.yaml"
POSTGRES_YAML = PROJECT_ROOT / "dagster-postgres.yaml"
SCHEMA_SUFFIX = "_dagster"
# What the PostgreSQL instance file reads, in the order of its fields.
INSTANCE_ENV = (
    "DAGSTER_PG_USERNAME",
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_PORT",
    "DAGSTER_PG_DB",
)
# The comment on a schema a sandbox stack made, which the next stack may drop.
STACK_MARK = "seek-sync sandbox stack: dropped when the next one starts"
# URL query parameters that would put a secret or a server into the file (it has none).
UNWRITTEN_PARAMS = frozenset({"password", "host", "hostaddr", "user", "dbname", "port"})


@dataclass(frozen=True)
class DagsterDatabase:
    """Where Dagster's instance lives on the server backend: a database URL and a schema."""

    url: URL  # the project's database, with its password
    schema: str

    @classmethod
    def chosen(cls, environ: Mapping[str, str]) -> DagsterDatabase | None:
        """Dagster's database when `environ` chooses the server backend; None for embedded."""
        schema = environ.get(f"{ENV_PREFIX}DATABASE_SCHEMA")
        given = {"database_schema": schema} if schema is not None else {}
        home = load(HomeFields, database_url=environ.get(f"{ENV_PREFIX}DATABASE_URL"), **given)
        if home.database_url is None:
            return None
        url = make_url(home.database_url.get_secret_value())
        if not url.host or not url.username or not url.database:
            raise SettingsError(
                f"setting {ENV_PREFIX}DATABASE_URL is invalid: Dagster's instance needs its user,"
                " host and database in the URL"
            )
        unwritten = sorted(UNWRITTEN_PARAMS & set(url.query))
        if unwritten:
            raise SettingsError(
                f"setting {ENV_PREFIX}DATABASE_URL is invalid: give {', '.join(unwritten)} in the"
                " URL itself, not as a query parameter"
            )
        return cls(url, home.database_schema + SCHEMA_SUFFIX)

    def environment(self) -> dict[str, str]:
        """The `DAGSTER_PG_*` variables the instance file reads (the password among them)."""
        values = (
            self.url.username,
            self.url.password or "",
            self.url.host,
            str(self.url.port or 5432),
            self.url.database,
        )
        return dict(zip(INSTANCE_ENV, (str(v) for v in values), strict=True))

    def storage(self) -> dict[str, Any]:
        """`dagster-postgres.yaml` for this schema, with the URL's other parameters (sslmode...)."""
        fragment = yaml.safe_load(POSTGRES_YAML.read_text(encoding="utf-8"))
        params = fragment["storage"]["postgres"]["postgres_db"]["params"]
        given = {k: v if isinstance(v, str) else " ".join(v) for k, v in self.url.query.items()}
        options = f"{given.pop('options', '')} -csearch_path={self.schema}".strip()
        params.update(given | {"options": options})
        return dict(fragment)

    def connect(self) -> Any:
        """A psycopg (3) connection in autocommit, for the schema's own DDL."""
        import psycopg

        libpq = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(libpq, autocommit=True)

    def create_schema(self, *, fresh: bool = False) -> None:
        """Make Dagster's schema if missing. With `fresh` (only the sandbox stacks: a new sandbox
        is a new SEEK, and a shared database keeps old runs) drop it first, but only a schema a
        stack made: any other (a deployment's, made by hand) is refused in one line."""
        from psycopg import sql

        from seek_sync.db.postgres import create_schema_if_missing

        schema = sql.Identifier(self.schema)
        with self.connect() as connection:
            connection.execute("SET lock_timeout = '30s'")  # a leftover process: fail, not hang
            if fresh:
                found = connection.execute(
                    "SELECT oid IS NOT NULL, obj_description(oid, 'pg_namespace')"
                    " FROM (SELECT to_regnamespace(%s)::oid AS oid) AS s",
                    [self.schema],
                ).fetchone()
                if found and found[0] and found[1] != STACK_MARK:
                    raise SettingsError(
                        f"setting {ENV_PREFIX}DATABASE_SCHEMA: schema {self.schema} was not made by"
                        " a demo, dev or bench stack, which would drop it; choose another schema"
                    )
                connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
            create_schema_if_missing(connection, self.schema)  # the runs' role may not create
            if fresh:
                mark = sql.SQL("COMMENT ON SCHEMA {} IS {}").format(schema, sql.Literal(STACK_MARK))
                connection.execute(mark)


def instance_yaml(database: DagsterDatabase | None, cluster: CeleryCluster | None = None) -> str:
    """An instance's `dagster.yaml`: the project's, plus PostgreSQL storage if chosen, plus the
    Celery run launcher if chosen (merged: it sets the run limit of the project's file)."""
    text = DAGSTER_YAML.read_text(encoding="utf-8")
    if database is None:
        return text
    header = f"# Storage: {POSTGRES_YAML.name}, in schema {database.schema} (docs/deploying.md).\n"
    if cluster is None:
        return f"{text.rstrip()}\n{header}{yaml.safe_dump(database.storage(), sort_keys=False)}"
    whole = cluster.instance(yaml.safe_load(text) | database.storage())
    header += f"# Runs on Celery workers: {DAGSTER_YAML.name} + dagster-celery.yaml, merged.\n"
    return header + yaml.safe_dump(whole, sort_keys=False)


def make_home(
    path: Path, environ: Mapping[str, str] | None = None, *, fresh: bool = False
) -> dict[str, str]:
    """A Dagster home at `path` for the backend `environ` chooses; the variables that use it
    (`DAGSTER_HOME`, on the server backend the `DAGSTER_PG_*` ones, on Celery workers the queue)."""
    environ = os.environ if environ is None else environ
    database = DagsterDatabase.chosen(environ)
    cluster = CeleryCluster.chosen(environ)
    path.mkdir(parents=True, exist_ok=True)
    if database is None:
        shutil.copyfile(DAGSTER_YAML, path / "dagster.yaml")
        return {"DAGSTER_HOME": str(path)}
    database.create_schema(fresh=fresh)
    (path / "dagster.yaml").write_text(instance_yaml(database, cluster), encoding="utf-8")
    given = cluster.environment() if cluster else {}
    return {"DAGSTER_HOME": str(path)} | database.environment() | given
