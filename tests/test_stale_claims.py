"""A create claim whose create already settled into the warehouse goes back when its hirer's next
run starts: a run that died after the merge (or whose journal another run merged) never gave it
back, and the hirer's later runs skip its settled applications, so without this the tenant's other
hirers would wait for the claim's TTL (found by the server crash test: a person who applied to two
Onderwijsregio hirers was never sent for the second one)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from seek_sync.backend import open_warehouse
from seek_sync.pipeline.ats_state import Creates
from seek_sync.runstate.create_claims import CreateClaims
from seek_sync.settings import WarehouseFields, load
from tests.backends import Backend
from tests.inboxes import inbox_of

TENANT = "onderwijsregio"
HIRER, OTHER = (
    "seekAnzPublicTest:organization:seek:H001",
    "seekAnzPublicTest:organization:seek:H002",
)


def _profile(candidate: str, email: str) -> dict[str, object]:
    raw = {"candidate": {"person": {"communication": {"email": [{"address": email}]}}}}
    return {
        "profile_id": f"profile-{candidate}",
        "hirer_id": HIRER,
        "candidate_id": candidate,
        "status": "ok",
        "raw_json": json.dumps(raw),
        "fetched_at": datetime.now(UTC),
    }


def test_claims_of_settled_creates_go_back_when_the_run_starts(backend: Backend) -> None:
    warehouse = open_warehouse(load(WarehouseFields, **backend.overrides))
    settled, in_flight = "Settled.Person@mail.example.net", "in.flight@mail.example.net"
    warehouse.upsert("candidate_profiles", [_profile("c1", settled), _profile("c2", in_flight)])
    warehouse.upsert(
        "ats_candidates",
        [
            {"target": TENANT, "hirer_id": HIRER, "seek_candidate_id": "c1", "state": "exists"},
            {
                "target": TENANT,
                "hirer_id": HIRER,
                "seek_candidate_id": "c2",
                "state": "pending_create",
            },
        ],
    )
    claims = CreateClaims(inbox_of(backend))
    assert claims.take(TENANT, settled.casefold(), HIRER)
    assert claims.take(TENANT, in_flight.casefold(), HIRER)
    assert not claims.take(TENANT, settled.casefold(), OTHER)  # held off by the stale claim

    with warehouse.session() as db:
        creates = Creates.load(db, {TENANT})
        creates.use_claims(claims, [HIRER], db)

    assert claims.take(TENANT, settled.casefold(), OTHER)  # given back: the other hirer may go
    assert not claims.take(TENANT, in_flight.casefold(), OTHER)  # a create in flight keeps it
    assert not claims.holds(creates.held, TENANT, settled.casefold(), HIRER)
    assert claims.holds(creates.held, TENANT, in_flight.casefold(), HIRER)
