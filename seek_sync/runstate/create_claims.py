"""Claims of ATS creates: one (tenant, person) create at a time, across every process and machine.

Hirers may share one ATS tenant (a region's school boards in one Onderwijsregio), where one person
must be one candidate. A create is asynchronous there, and it becomes visible to another hirer's
find-by-email only later, so two runs working hirers of one tenant could both create the person.
Before a create a run *takes* the claim of (tenant, person) for its hirer in the inbox database:
one row, inserted `ON CONFLICT DO NOTHING`, so exactly one hirer holds it whichever process asks
first. The row names neither: both keys are SHA-256 digests (no personal data in the run state).
The hirer's create, once settled and merged into the warehouse, releases it. A claim is the
hirer's, not the process's: a run that dies with a create in flight leaves it, and the hirer's
next run carries on with it; a claim older than `ttl_seconds` (its create long visible to a
find-by-email) is free again. No Dagster here.
"""

from __future__ import annotations

import hashlib
import time

from seek_sync.runstate.inbox import Inbox
from seek_sync.testhooks import create_claims_enabled

DEFAULT_TTL_SECONDS = 1800.0


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class CreateClaims:
    """The `create_claims` table."""

    def __init__(self, inbox: Inbox, *, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self.inbox, self.ttl_seconds = inbox, ttl_seconds
        self.enabled = create_claims_enabled()

    @staticmethod
    def keys(tenant: str, person: str) -> tuple[str, str]:
        return digest("tenant", tenant), digest("person", person.casefold())

    def take(self, tenant: str, person: str, hirer_id: str) -> bool:
        """Whether `hirer_id` may create `person` in `tenant` now (it holds the claim)."""
        if not self.enabled:
            return True
        tenant_key, person_key = self.keys(tenant, person)
        now = time.time()
        with self.inbox.transaction() as conn:
            inserted = conn.executemany(
                "INSERT INTO create_claims (tenant_key, person_key, hirer_id, claimed_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (tenant_key, person_key) DO NOTHING",
                [(tenant_key, person_key, hirer_id, now)],
            )
            if inserted:
                return True
            row = conn.execute(
                "SELECT hirer_id, claimed_at FROM create_claims WHERE tenant_key = ? "
                f"AND person_key = ?{self.inbox.database.row_lock}",
                (tenant_key, person_key),
            ).fetchone()
            if row is None:
                return False  # another transaction holds the row right now
            if row["hirer_id"] == hirer_id:
                return True
            if now - row["claimed_at"] <= self.ttl_seconds:
                return False
            conn.execute(
                "UPDATE create_claims SET hirer_id = ?, claimed_at = ? WHERE tenant_key = ? "
                "AND person_key = ?",
                (hirer_id, now, tenant_key, person_key),
            )
            return True

    def release(self, claims: list[tuple[str, str, str]]) -> None:
        """Give back each (tenant, person, hirer) claim the hirer holds (its create settled)."""
        if not claims:
            return
        rows = [(*self.keys(t, p), h) for t, p, h in claims]
        with self.inbox.transaction() as conn:
            conn.executemany(
                "DELETE FROM create_claims WHERE tenant_key = ? AND person_key = ? "
                "AND hirer_id = ?",
                rows,
            )

    def held(self) -> int:
        return int(self.inbox.read("SELECT COUNT(*) AS n FROM create_claims")[0]["n"])

    def held_by(self, hirer_ids: list[str]) -> set[tuple[str, str, str]]:
        """The (tenant digest, person digest, hirer) claims these hirers hold (one small read:
        only creates in flight have a claim)."""
        if not hirer_ids:
            return set()
        rows = self.inbox.read(
            "SELECT tenant_key, person_key, hirer_id FROM create_claims "
            f"WHERE hirer_id IN ({','.join('?' * len(hirer_ids))})",
            hirer_ids,
        )
        return {(r[0], r[1], r[2]) for r in rows}

    def holds(self, held: set[tuple[str, str, str]], tenant: str, person: str, hirer: str) -> bool:
        return (*self.keys(tenant, person), hirer) in held
