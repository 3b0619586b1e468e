"""The schema rule on the server: a shared database changes only through `seek-sync db upgrade`,
under its lock; every process refuses an older schema in one line. Real `seek-sync` processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from seek_sync.db.postgres import PostgresDatabase
from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.schema import COMPONENT, MIGRATIONS
from tests.services import database_url, private_database

SEEK_SYNC = str(Path(sys.executable).parent / "seek-sync")
LATEST = len(MIGRATIONS)


def env_for(database: str, home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("SEEK_SYNC_")}
    return keep | {
        "SEEK_SYNC_HOME": str(home),
        "SEEK_SYNC_DATABASE_URL": database_url(database, "psycopg"),
        "SEEK_SYNC_SEEK_CLIENT_ID": "client",
        "SEEK_SYNC_SEEK_CLIENT_SECRET": "secret",
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SEEK_SYNC, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_an_older_server_schema_is_refused_in_one_line_until_upgraded(tmp_path: Path) -> None:
    with private_database() as name:
        env = env_for(name, tmp_path)
        old = PostgresDatabase(database_url(name), "seek_sync")
        assert old.upgrade_schema(COMPONENT, MIGRATIONS[:1]) == [1]  # an earlier release's
        old.close()
        refused = run(["poll", "--once"], env)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.count("\n") == 1, refused.stderr  # one line, no traceback
        assert "version 1" in refused.stderr and "seek-sync db upgrade" in refused.stderr
        status = run(["db", "status", "--check"], env)
        assert status.returncode == 1 and f"inbox: version 1 (needs {LATEST})" in status.stdout
        upgraded = run(["db", "upgrade"], env)
        assert upgraded.returncode == 0, upgraded.stderr
        inbox_line, warehouse_line = upgraded.stdout.strip().splitlines()  # every component
        assert inbox_line == (
            f"inbox: applied version(s) {', '.join(str(v) for v in range(2, LATEST + 1))}"
        )
        assert warehouse_line.startswith("warehouse: applied version(s) 1")
        status = run(["db", "status", "--check"], env)
        assert status.returncode == 0 and f"inbox: version {LATEST} (up to date)" in status.stdout


def test_two_upgrades_at_once_apply_each_version_once(tmp_path: Path) -> None:
    with private_database() as name:
        env = env_for(name, tmp_path)
        started = [
            subprocess.Popen(
                [SEEK_SYNC, "db", "upgrade"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in started]
        assert [p.returncode for p in started] == [0, 0], outputs
        lines = sorted(out.strip().splitlines()[0] for out, _ in outputs)  # the inbox's line
        applied = ", ".join(str(v) for v in range(1, LATEST + 1))
        assert lines == [
            f"inbox: applied version(s) {applied}",
            f"inbox: up to date (version {LATEST})",
        ]
        database = PostgresDatabase(database_url(name), "seek_sync")
        rows = database.read(
            "SELECT version FROM schema_versions WHERE component = ?", (COMPONENT,)
        )
        assert sorted(r[0] for r in rows) == list(range(1, LATEST + 1))  # each applied once
        database.close()


def test_an_empty_server_database_is_created_by_the_first_process(tmp_path: Path) -> None:
    with private_database() as name:
        database = PostgresDatabase(database_url(name), "elsewhere")
        inbox = Inbox(database)
        assert inbox.counts() == {"events": 0, "callbacks": 0, "unknown_hirer": 0}
        assert database.schema_version(COMPONENT) == LATEST
        schemas = database.read(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'events'"
        )
        assert [r[0] for r in schemas] == ["elsewhere"]  # in the configured schema only
        database.close()
