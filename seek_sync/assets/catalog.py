"""What the catalog shows of each dataset: its table and column schema, owners, and whether it
holds personal data. The schema is read from the warehouse's own DDL, so it cannot drift."""

import re
from typing import Any

import dagster as dg

from seek_sync.store.warehouse import TABLES

OWNERS = ["team:seek-sync"]
# Which datasets hold personal data (docs/personal-data.md): `direct` names a person or holds
# their documents; `pseudonymous` holds SEEK's ids of a person, and links to what names them.
PERSONAL_DATA = {
    "application_events": "pseudonymous",
    "candidate_profiles": "direct",
    "attachment_manifest": "pseudonymous",
    "attachment_files": "direct",
    "ats_candidates": "pseudonymous",
    "ats_uploads": "pseudonymous",
}
COLUMN_DOCS = {
    "hirer_id": "SEEK hirer id: the partition key",
    "name": "the hirer's name as SEEK gives it",
    "relationship": "active, or removed (no ApplicationExport relationship any more)",
    "target": "the hirer's ATS: onderwijsregio or kombo",
    "added_at": "when the hirer was first seen",
    "removed_at": "when the relationship was found removed",
    "event_id": "SEEK event id",
    "type_code": "SEEK event type",
    "source": "poll or webhook",
    "profile_id": "SEEK candidate application profile id",
    "candidate_id": "SEEK candidate id",
    "created_at": "when SEEK created it",
    "inbox_seq": "the event's position in the inbox",
    "raw_json": "the payload exactly as SEEK sent it",
    "job_reference": "the hirer's own job reference",
    "status": "the outcome of the fetch or download",
    "error": "why not, when it was not done",
    "attachments": "attachments the profile lists",
    "fetched_at": "when the profile was read",
    "checked_at": "when the profile was last re-read for SEEK's deletions",
    "attachment_id": "our id of one attachment of one profile",
    "role": "resume, cover letter, selection criteria or other",
    "url": "SEEK's download URL",
    "descriptions": "SEEK's descriptions of the attachment",
    "sha256": "SHA-256 of the bytes, computed while streaming",
    "bytes": "size in bytes",
    "declared_type": "content type SEEK declared",
    "sniffed_type": "content type sniffed from the bytes",
    "safe_filename": "file name made safe for the ATS",
    "blob_uri": "where the bytes are stored (content-addressed, under the hirer's prefix)",
    "downloaded_at": "when the bytes were stored",
    "seek_candidate_id": "SEEK candidate id",
    "state": "where it stands in the ATS (pending, accepted, confirmed, rejected, failed, ...)",
    "ats_id": "the ATS's id of the candidate or application",
    "idempotency_key": "the key of the current send",
    "updated_at": "when the row last changed",
    "attempts": "sends so far",
    "failures": "failed sends so far",
    "last_error": "the latest reason it was not sent or failed",
    "ats_attachment_id": "the ATS's id of the stored file (its evidence)",
    "outcome_unknown": "the last send's outcome is not known yet",
    "sent_at": "when it was last sent",
    "key_sent_at": "when the current key was first sent",
}
_PARENS = re.compile(r"\([^)]*\)")


def _columns(table: str) -> list[str]:
    """The table's column definitions (`name TYPE [NOT NULL] [PRIMARY KEY]`) from its DDL."""
    ddl = _PARENS.sub(lambda m: m.group(0).replace(",", ";"), TABLES[table])
    parts = [p.strip() for p in ddl.replace("\n", " ").split(",")]
    return [p for p in parts if p and not p.upper().startswith("PRIMARY KEY")]


def _key(table: str) -> set[str]:
    found = re.search(r"PRIMARY KEY \(([^)]*)\)", TABLES[table])
    return {c.strip() for c in found.group(1).split(",")} if found else set()


def column_schema(table: str) -> dg.TableSchema:
    """The warehouse table's columns, types, constraints and meanings."""
    key = _key(table)
    columns = []
    for part in _columns(table):
        name, kind, *rest = part.split()
        flags = " ".join(rest).upper()
        constraints = dg.TableColumnConstraints(
            nullable="NOT NULL" not in flags and "PRIMARY KEY" not in flags and name not in key,
            unique="PRIMARY KEY" in flags,
            other=["part of the primary key"] if name in key else [],
        )
        columns.append(
            dg.TableColumn(name, kind.lower(), COLUMN_DOCS.get(name), constraints=constraints)
        )
    return dg.TableSchema(columns=columns)


def table_metadata(table: str) -> dict[str, object]:
    """The catalog's definition metadata of a warehouse table: where it is, and its columns."""
    return {
        "dagster/table_name": f"warehouse.main.{table}",
        "dagster/column_schema": column_schema(table),
    }


def tags(table: str) -> dict[str, str]:
    """`personal_data: direct|pseudonymous` on the datasets that hold any."""
    return {"personal_data": PERSONAL_DATA[table]} if table in PERSONAL_DATA else {}


def dataset(table: str) -> dict[str, Any]:
    """An asset's catalog entry for its warehouse table: metadata, owners and tags."""
    return {"metadata": table_metadata(table), "owners": OWNERS, "tags": tags(table)}
