"""An access request answered: everything held about a person, in one ZIP archive.

The archive holds the profiles as SEEK sent them (JSON), the stored files, the events, the ATS
state and the audit rows that name the person's candidate ids, and a manifest of counts. The
selection is the purge's (`store.purge.find`): by email, candidate id or hirer. Dagster-free.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seek_sync.store.blobs import BlobStore
from seek_sync.store.purge import Selector, find
from seek_sync.store.sql import IN_LIST, table_exists
from seek_sync.store.warehouse import Reader, records_of


def _records(db: Reader, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return records_of(db.query(sql, params))


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def export(db: Reader, blobs: BlobStore, selector: Selector, out: Path) -> dict[str, int]:
    """Write the archive to `out`; returns what it holds (counts only)."""
    found = find(db, selector)
    profiles = _records(
        db, f"SELECT * FROM candidate_profiles WHERE profile_id IN {IN_LIST}", [found.profile_ids]
    )
    events = _records(
        db, f"SELECT * FROM application_events WHERE profile_id IN {IN_LIST}", [found.profile_ids]
    )
    files = _records(
        db,
        "SELECT f.*, m.profile_id, m.role FROM attachment_files f JOIN attachment_manifest m "
        f"USING (attachment_id) WHERE f.attachment_id IN {IN_LIST}",
        [found.attachment_ids],
    )
    uploads = _records(
        db, f"SELECT * FROM ats_uploads WHERE attachment_id IN {IN_LIST}", [found.attachment_ids]
    )
    candidates = _records(
        db,
        f"SELECT * FROM ats_candidates WHERE seek_candidate_id IN {IN_LIST}",
        [found.candidate_ids],
    )
    audit = _audit(db, found.candidate_ids)
    out.parent.mkdir(parents=True, exist_ok=True)
    stored = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for profile in profiles:
            raw = json.loads(profile.pop("raw_json") or "null")
            archive.writestr(f"profiles/{profile['profile_id']}.json", _json(raw))
            archive.writestr(f"profiles/{profile['profile_id']}.record.json", _json(profile))
        for file in files:
            if file["status"] == "stored" and file["sha256"]:
                name = f"files/{file['attachment_id']}-{file['safe_filename'] or 'file'}"
                archive.writestr(
                    name, blobs.read_bytes(blobs.key_for(file["hirer_id"], file["sha256"]))
                )
                stored += 1
        archive.writestr("files.json", _json(files))
        archive.writestr("events.json", _json(events))
        archive.writestr("ats.json", _json({"candidates": candidates, "uploads": uploads}))
        archive.writestr("audit.json", _json(audit))
        counts = {
            "profiles": len(profiles),
            "files": stored,
            "events": len(events),
            "ats_records": len(candidates) + len(uploads),
            "audit_entries": len(audit),
        }
        manifest = {"generated_at": datetime.now(UTC).isoformat(), "counts": counts}
        archive.writestr("manifest.json", _json(manifest))
    return counts


def _audit(db: Reader, candidate_ids: list[str]) -> list[dict[str, Any]]:
    """The audit rows naming any of these candidates (none yet: no table)."""
    if not candidate_ids or db.query(table_exists(db.dialect, "purges")).empty:
        return []
    rows = _records(db, "SELECT * FROM purges ORDER BY purged_at", [])
    return [r for r in rows if set(json.loads(r["candidate_ids"])) & set(candidate_ids)]
