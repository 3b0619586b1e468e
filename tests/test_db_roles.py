"""`deploy/sql/roles.sql` on a private database: the owner makes the schema, a real `seek-sync
receiver serve` process connecting as the receiver role stores a signed webhook and a signed
callback (and a replay of each once), and that role is refused reading a warehouse table, reading
an event's payload and deleting from the inbox. The run role writes and rewrites (VACUUM FULL)
both the inbox and the warehouse; a role that may not rewrite a table makes the purge's vacuum
fail instead of leaving the rows in the table files. Roles are cluster-wide in PostgreSQL: each
test names its own, and drops them after."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from seek_sync.db.postgres import PostgresDatabase, VacuumRefused
from seek_sync.runstate.inbox import Inbox
from seek_sync.store.warehouse_postgres import PostgresWarehouse
from tests.services import ADMIN_URL, database_url, fail_or_skip, private_database
from tests.test_receiver import SECRET, body_of, item, signed
from tests.test_receiver_callbacks import SECRET as CALLBACK_SECRET
from tests.test_receiver_callbacks import post
from tests.test_receiver_process import receiver_env, serving

ROLES_SQL = Path(__file__).resolve().parents[1] / "deploy" / "sql" / "roles.sql"
SEEK_SYNC = str(Path(sys.executable).parent / "seek-sync")
SCHEMA = "seek_sync"


@dataclass(frozen=True)
class Roles:
    database: str
    owner: str
    runner: str
    receiver: str

    def url(self, role: str, driver: str = "psycopg") -> str:
        return database_url(self.database, driver).replace("://postgres@", f"://{role}@", 1)

    def roles_sql(self) -> subprocess.CompletedProcess[str]:
        variables = {"schema": SCHEMA, "owner": self.owner, "runner": self.runner}
        variables["receiver"] = self.receiver
        command = ["psql", database_url(self.database), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        for name, value in variables.items():
            command += ["-v", f"{name}={value}"]
        return subprocess.run(
            [*command, "-f", str(ROLES_SQL)], capture_output=True, text=True, check=True
        )


@pytest.fixture
def roles() -> Iterator[Roles]:
    """The roles made by the script, the tables by `seek-sync db upgrade` as the owner."""
    if shutil.which("psql") is None:
        fail_or_skip(
            "no `psql` on PATH", "run `make test` as root, or `apt-get install postgresql-client`"
        )
    tag = uuid.uuid4().hex[:10]
    with private_database() as database:
        made = Roles(database, f"seek_owner_{tag}", f"seek_run_{tag}", f"seek_receiver_{tag}")
        try:
            first = made.roles_sql()
            assert "seek-sync db upgrade" in first.stdout  # no tables yet: it says what to run
            env = {"PATH": "/usr/bin:/bin", "SEEK_SYNC_DATABASE_URL": made.url(made.owner)}
            upgrade = subprocess.run(
                [SEEK_SYNC, "db", "upgrade"], env=env, capture_output=True, text=True
            )
            assert upgrade.returncode == 0, upgrade.stderr
            made.roles_sql()
            yield made
        finally:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                for role in (made.receiver, made.runner, made.owner):
                    admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def refused(url: str, sql: str) -> bool:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f"SET search_path TO {SCHEMA}")
        try:
            connection.execute(sql)
        except psycopg.errors.InsufficientPrivilege:
            return True
    return False


def test_the_receiver_role_only_inserts_into_the_inbox(roles: Roles, tmp_path: Path) -> None:
    url = roles.url(roles.receiver)
    env = receiver_env(tmp_path, SEEK_SYNC_DATABASE_URL=url)
    env |= {"SEEK_SYNC_SEEK_WEBHOOK_SECRET": SECRET}
    env |= {"SEEK_SYNC_ONDERWIJSREGIO_CALLBACK_SECRET": CALLBACK_SECRET}
    body = body_of(item(1), item(2))
    callback = json.dumps({"idempotencyKey": "k1", "status": "succeeded"}).encode()
    with serving(tmp_path, env) as started:  # answers /healthz: counts as the receiver role
        base = f"http://127.0.0.1:{started.port}"
        for _ in range(2):  # a replay stores nothing (ON CONFLICT needs SELECT of the key)
            assert (
                httpx.post(f"{base}/webhooks/seek", content=body, headers=signed(body)).status_code
                == 204
            )
        assert post(base, callback, nonce="n1").status_code == 204
        assert post(base, callback, nonce="n1").status_code == 409
        assert httpx.get(f"{base}/healthz").json()["inbox"]["events"] == 2

    inbox = Inbox(PostgresDatabase(roles.url("postgres"), SCHEMA))
    stored = sorted(e.event_id for e in inbox.events_after(0))
    assert stored == sorted(e["id"] for e in json.loads(body)["events"])
    assert [c.callback_id for c in inbox.callbacks_after(0)] == ["onderwijsregio:n1"]
    # Refused: a warehouse table, the events' payloads, deleting or changing the inbox, the run
    # state; a control shows the same connection may run what the receiver runs.
    assert not refused(url, "SELECT COUNT(*) FROM events")
    for sql in (
        "SELECT raw_json FROM candidate_profiles",
        "SELECT raw_json FROM events",
        "DELETE FROM events",
        "UPDATE events SET hirer_id = 'x'",
        "DELETE FROM callbacks",
        "SELECT * FROM journal",
        "DELETE FROM tombstones",
        "CREATE TABLE mine (x int)",
    ):
        assert refused(url, sql), sql


def test_the_run_role_writes_and_rewrites_and_a_lesser_role_cannot(roles: Roles) -> None:
    runner = roles.url(roles.runner)
    database = PostgresDatabase(runner, SCHEMA)
    assert Inbox(database).counts()["events"] == 0
    assert database.presence()  # the presence sequence and a session lock
    database.vacuum(("events", "journal"))  # a member of the owner role may rewrite
    warehouse = PostgresWarehouse(runner, SCHEMA)
    hirer = {"hirer_id": "seekAnzPublicTest:organization:seek:AAAA1111", "name": "A"}
    with warehouse.exclusive() as session:  # a COPY batch (a temporary table), then VACUUM FULL
        assert session.upsert("hirers", [hirer]) == 1
    # Dagster makes its own tables; in seek-sync's schema only PostgreSQL 17's MAINTAIN keeps
    # the run role from DDL (before 17 it is a member of the owner role, to rewrite tables).
    assert not refused(runner, "CREATE TABLE seek_sync_dagster.mine (x int)")
    with psycopg.connect(ADMIN_URL) as admin:
        maintain = admin.info.server_version >= 170000
    assert refused(runner, "CREATE TABLE mine (x int)") == maintain

    lesser = f"seek_dml_{uuid.uuid4().hex[:10]}"  # may change rows, not rewrite tables
    with psycopg.connect(database_url(roles.database), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{lesser}" LOGIN')
        admin.execute(f'GRANT USAGE ON SCHEMA {SCHEMA} TO "{lesser}"')
        admin.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO "{lesser}"'
        )
    try:
        with pytest.raises(VacuumRefused, match="events"):
            PostgresDatabase(roles.url(lesser), SCHEMA).vacuum(("events",))
    finally:
        with psycopg.connect(database_url(roles.database), autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{lesser}"')
            admin.execute(f'DROP ROLE "{lesser}"')
