"""A small warehouse world for the store-level tests, written through the warehouse's own upserts
and the blob store of the backend (local files or S3), on either backend."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from seek_sync.backend import open_blobs, open_warehouse
from seek_sync.settings import BlobFields, WarehouseFields, load
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Warehouse
from tests.backends import Backend

H1, H2 = "seekAnzPublicTest:organization:seek:H1", "seekAnzPublicTest:organization:seek:H2"
NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=400)


def raw_profile(email: str) -> str:
    return json.dumps({"candidate": {"person": {"communication": {"email": [{"address": email}]}}}})


@dataclass
class World:
    warehouse: Warehouse
    blobs: BlobStore
    keys: dict[str, str]  # attachment id -> blob key


def put_blob(blobs: BlobStore, hirer_id: str, data: bytes) -> str:
    sink = blobs.sink(hirer_id)
    sink.begin()
    sink.write(data)
    return sink.commit(hashlib.sha256(data).hexdigest())


def make_world(backend: Backend) -> World:
    """Ann applied to H1 and H2 (same email, different case), Bob to H1; each application has one
    file; Bob's file has the same bytes as Ann's H1 file (one blob, shared). Ann's H1 application
    is old and its upload confirmed long ago; an event-only application of H2 is old too."""
    warehouse = open_warehouse(load(WarehouseFields, **backend.overrides))
    blobs = open_blobs(load(BlobFields, **backend.overrides))
    files = {"a-ann-1": (H1, b"ann cv"), "a-ann-2": (H2, b"ann cv 2"), "a-bob-1": (H1, b"ann cv")}
    keys = {a: put_blob(blobs, h, data) for a, (h, data) in files.items()}
    profiles = [
        ("p-ann-1", H1, "c-ann", "ann@example.com", OLD),
        ("p-ann-2", H2, "c-ann", "ANN@Example.com", NOW),
        ("p-bob-1", H1, "c-bob", "bob@example.com", NOW),
    ]
    with warehouse.session() as db:
        db.upsert("hirers", [{"hirer_id": h, "relationship": "active"} for h in (H1, H2)])
        db.upsert(
            "candidate_profiles",
            [
                {"profile_id": p, "hirer_id": h, "candidate_id": c, "created_at": born,
                 "status": "ok", "attachments": 1, "raw_json": raw_profile(e), "fetched_at": born}
                for p, h, c, e, born in profiles
            ],
        )  # fmt: skip
        events = [(p, h, c, born.isoformat()) for p, h, c, _, born in profiles]
        events.append(("p-old-event", H2, "c-eve", OLD.isoformat()))
        events.append(("p-bad-date", H2, "c-eve", "not a date"))
        db.upsert(
            "application_events",
            [
                {"event_id": f"e-{p}", "hirer_id": h, "type_code": "CandidateApplicationCreated",
                 "source": "poll", "profile_id": p, "candidate_id": c, "created_at": at,
                 "raw_json": "{}"}
                for p, h, c, at in events
            ],
        )  # fmt: skip
        db.upsert(
            "attachment_manifest",
            [
                {"attachment_id": a, "hirer_id": h, "profile_id": a.replace("a-", "p-"),
                 "role": "Resume", "url": f"https://seek.example/{a}"}
                for a, (h, _) in files.items()
            ],
        )  # fmt: skip
        db.upsert(
            "attachment_files",
            [
                {"attachment_id": a, "hirer_id": h, "sha256": keys[a].rsplit("/", 1)[1],
                 "bytes": len(data), "safe_filename": "cv.pdf", "blob_uri": keys[a],
                 "status": "stored", "downloaded_at": NOW}
                for a, (h, data) in files.items()
            ],
        )  # fmt: skip
        db.upsert(
            "ats_uploads",
            [
                {"attachment_id": "a-ann-1", "target": "kombo", "hirer_id": H1,
                 "state": "confirmed", "ats_attachment_id": "k-1", "updated_at": OLD},
                {"attachment_id": "a-bob-1", "target": "kombo", "hirer_id": H1,
                 "state": "accepted", "idempotency_key": "key-bob", "updated_at": NOW},
            ],
        )  # fmt: skip
        db.upsert(
            "ats_candidates",
            [
                {"target": "kombo", "hirer_id": H1, "seek_candidate_id": c, "state": "created",
                 "ats_id": f"k-{c}", "updated_at": NOW}
                for c in ("c-ann", "c-bob")
            ],
        )  # fmt: skip
    return World(warehouse, blobs, keys)
