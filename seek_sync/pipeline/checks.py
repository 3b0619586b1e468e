"""Data-quality checks over one hirer's rows in the warehouse and its blobs (no Dagster)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from seek_sync.store.blobs import BlobStore, hirer_prefix
from seek_sync.store.warehouse import Warehouse

FAILING_AFTER = 3  # consecutive failed passes before a hirer is flagged as failing


@dataclass
class CheckOutcome:
    passed: bool
    failing: int
    counts: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # ids only


def files_accounted_for(warehouse: Warehouse, hirer_id: str) -> CheckOutcome:
    """Every manifest attachment has a stored file or a recorded reason."""
    frame = warehouse.query(
        "SELECT m.attachment_id, f.status, f.error FROM attachment_manifest m "
        "LEFT JOIN attachment_files f ON f.attachment_id = m.attachment_id WHERE m.hirer_id = ?",
        [hirer_id],
    )
    missing = frame[
        frame["status"].isna() | ((frame["status"] != "stored") & frame["error"].isna())
    ]
    counts = frame["status"].fillna("no_row").value_counts().to_dict()
    return CheckOutcome(missing.empty, len(missing), counts, list(missing["attachment_id"][:5]))


def _sha256(blobs: BlobStore, key: str) -> str:
    digest = hashlib.sha256()
    with blobs.fs.open(blobs.path(key), "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def blobs_match(
    warehouse: Warehouse, blobs: BlobStore, hirer_id: str, *, since: datetime | None = None
) -> CheckOutcome:
    """Every stored file's blob (downloaded `since`, if given) exists under the hirer's own
    prefix and hashes to its SHA-256."""
    frame = warehouse.query(
        "SELECT attachment_id, sha256, blob_uri FROM attachment_files "
        "WHERE hirer_id = ? AND status = 'stored' AND downloaded_at >= ?",
        [hirer_id, since or datetime(1970, 1, 1, tzinfo=UTC)],
    )
    bad: list[str] = []
    counts = {"checked": 0, "wrong_hash": 0, "missing_blob": 0, "other_hirer_prefix": 0}
    own = blobs.uri(hirer_prefix(hirer_id)) + "/"
    for attachment_id, sha256, uri in frame.itertuples(index=False):
        counts["checked"] += 1
        if not str(uri).startswith(own):
            counts["other_hirer_prefix"] += 1
            bad.append(attachment_id)
            continue
        key = str(uri)[len(blobs.url) + 1 :]
        if not blobs.exists(key):
            counts["missing_blob"] += 1
            bad.append(attachment_id)
        elif _sha256(blobs, key) != sha256:
            counts["wrong_hash"] += 1
            bad.append(attachment_id)
    return CheckOutcome(not bad, len(bad), counts, bad[:5])


def stuck_uploads(warehouse: Warehouse, hirer_id: str, older_than: timedelta) -> CheckOutcome:
    """Uploads still `accepted` (no confirmation) longer than `older_than`; counts per state."""
    frame = warehouse.query(
        "SELECT attachment_id, state, updated_at FROM ats_uploads WHERE hirer_id = ?", [hirer_id]
    )
    counts = frame["state"].value_counts().to_dict()
    limit = datetime.now(UTC) - older_than
    stuck = frame[(frame["state"] == "accepted") & (frame["updated_at"] < limit)]
    return CheckOutcome(stuck.empty, len(stuck), counts, list(stuck["attachment_id"][:5]))


def keeps_failing(failures: int, at_least: int = FAILING_AFTER) -> CheckOutcome:
    """The hirer's last passes failed, or left items failing, `at_least` times in a row."""
    return CheckOutcome(failures < at_least, int(failures >= at_least), {"failures": failures})
