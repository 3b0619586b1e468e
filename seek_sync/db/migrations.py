"""Versioned schemas: each component's migrations, the table that records them, and the rule.

A component (the inbox's run state, the warehouse) lists its migrations in order, version 1 being
the baseline a release made before versioning existed. The versions applied are rows of
`schema_versions` in the same database. `ensure` brings a schema up to date where that is allowed
(an embedded file, or a database still empty) and otherwise refuses with one line that says what to
run: on a shared server, only `seek-sync db upgrade` migrates, under the database's lock, so two
processes of different releases never race to change a schema under each other.

Dialect-free: a migration gets a `Dialect` (its name and an `execute` for one statement) and the
caller holds the lock and the transaction. No Dagster here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

DialectName = Literal["sqlite", "duckdb", "postgresql"]

VERSIONS_TABLE = "schema_versions"


class SchemaError(RuntimeError):
    """A schema this process may not use: older (run `seek-sync db upgrade`) or newer."""


class Dialect(Protocol):
    """What a migration needs from a connection: which database, and one statement at a time."""

    name: DialectName

    def execute(self, sql: str) -> None: ...

    def scalar(self, sql: str) -> object: ...


@dataclass(frozen=True)
class On:
    """A `Dialect` over any DB-API-like connection whose `execute` returns a cursor of tuples
    (sqlite3, duckdb, psycopg with its default row factory)."""

    name: DialectName
    connection: Any

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def scalar(self, sql: str) -> object:
        row = self.connection.execute(sql).fetchone()
        return row[0] if row else None


@dataclass(frozen=True)
class Migration:
    """One step of a component's schema, applied once, in order."""

    version: int
    summary: str
    apply: Callable[[Dialect], None]


def statements(*sql: str) -> Callable[[Dialect], None]:
    """A migration that runs the same statements on every dialect."""

    def apply(dialect: Dialect) -> None:
        for statement in sql:
            dialect.execute(statement)

    return apply


def _create_versions_table(dialect: Dialect) -> None:
    # On PostgreSQL only when missing: `IF NOT EXISTS` still needs the CREATE privilege on the
    # schema, which the receiver's and the runs' roles do not have (`deploy/sql/roles.sql`).
    found = f"SELECT to_regclass({_literal(VERSIONS_TABLE)}) IS NOT NULL"
    if dialect.name == "postgresql" and dialect.scalar(found):
        return
    dialect.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} (component VARCHAR NOT NULL, "
        "version INTEGER NOT NULL, summary VARCHAR NOT NULL, applied_at VARCHAR NOT NULL, "
        "PRIMARY KEY (component, version))"
    )


def current_version(dialect: Dialect, component: str) -> int:
    """The highest version applied to `component` (0: never versioned, or a new database)."""
    _create_versions_table(dialect)
    found = dialect.scalar(
        f"SELECT MAX(version) FROM {VERSIONS_TABLE} WHERE component = {_literal(component)}"
    )
    return int(found) if found is not None else 0  # type: ignore[call-overload]


def latest(migrations: Sequence[Migration]) -> int:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1..n in order, got {versions}")
    return len(versions)


def upgrade(dialect: Dialect, component: str, migrations: Sequence[Migration]) -> list[int]:
    """Apply every migration above the current version; returns the versions applied.

    The caller holds the database's lock and one transaction around this call."""
    target = latest(migrations)
    applied: list[int] = []
    have = current_version(dialect, component)
    if have > target:
        raise SchemaError(_newer(component, have, target))
    for migration in migrations[have:]:
        migration.apply(dialect)
        dialect.execute(
            f"INSERT INTO {VERSIONS_TABLE} (component, version, summary, applied_at) VALUES "
            f"({_literal(component)}, {migration.version}, {_literal(migration.summary)}, "
            f"{_literal(datetime.now(UTC).isoformat())})"
        )
        applied.append(migration.version)
    return applied


def ensure(
    dialect: Dialect,
    component: str,
    migrations: Sequence[Migration],
    *,
    may_upgrade: bool,
    is_empty: Callable[[], bool] = lambda: False,
) -> list[int]:
    """Use the schema as it is if current; else upgrade it when allowed, or refuse in one line.

    `may_upgrade` is true for an embedded file (one machine, one release); a server database is
    upgraded here only while it holds none of this component's tables (`is_empty`)."""
    target = latest(migrations)
    have = current_version(dialect, component)
    if have == target:
        return []
    if have > target:
        raise SchemaError(_newer(component, have, target))
    if may_upgrade or (have == 0 and is_empty()):
        return upgrade(dialect, component, migrations)
    raise SchemaError(
        f"the {component} schema is at version {have} and this release needs {target}: "
        "run `seek-sync db upgrade` first"
    )


def _newer(component: str, have: int, target: int) -> str:
    return (
        f"the {component} schema is at version {have}, newer than this release's {target}: "
        "upgrade seek-sync"
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
