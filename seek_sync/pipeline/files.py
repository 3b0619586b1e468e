"""Stage 4: each manifest attachment streamed into the blob store under its hirer's prefix (for
a hirer on demand: read and hashed, its facts recorded, no byte stored)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from seek_sync.pipeline.report import StageReport, capped
from seek_sync.pipeline.stores import Stores
from seek_sync.seek.client import SeekClient
from seek_sync.seek.downloads import HashOnlySink
from seek_sync.seek.errors import DownloadError, DownloadRefusedError, SeekError
from seek_sync.store.blobs import BlobSink, BlobStore
from seek_sync.store.purge import forget_documents
from seek_sync.store.warehouse import Session, in_hirers

STORED = "stored"
ON_DEMAND = "on_demand"  # known (hashed, sniffed, sized) but never stored: fetched at push time
# Outcomes that a later run cannot change by itself; `error` (network, 5xx) is retried every run
# and `not_found` by the nightly reconcile. `expired`: retention deleted the blob after the ATS
# confirmed the upload (never fetched or sent again).
TERMINAL = (
    STORED,
    ON_DEMAND,
    "refused",
    "too_large",
    "forbidden",
    "redirect",
    "not_found",
    "expired",
)


def mode(stores: Stores, hirer_id: str) -> str:
    """The hirer's attachment mode, as its materializations show it."""
    return ON_DEMAND if hirer_id in stores.blobs.refused else STORED


def forget_stored(stores: Stores, hirer_ids: Sequence[str]) -> dict[str, int]:
    """Hirers switched to on demand since their files were stored: the rows first (`on_demand`,
    audited as a purge is), then the hirer's blobs; per hirer, the files it held."""
    forgotten = {}
    for hirer_id in hirer_ids:
        if hirer_id not in stores.blobs.refused:
            continue
        with stores.warehouse.session() as session:
            count = forget_documents(session, hirer_id)
        if stores.blobs.holds(hirer_id):
            stores.blobs.delete_hirer(hirer_id)
        if count:
            forgotten[hirer_id] = count
    return forgotten


def pending_files(
    db: Session, hirer_ids: Sequence[str], *, retry_missing: bool, limit: int | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """(hirer_id, attachment_id, url) of manifest rows without a settled file, at most `limit`
    per hirer; and per hirer how many more are pending than the limit let through."""
    settled = [s for s in TERMINAL if not (retry_missing and s == "not_found")]
    marks = ", ".join("?" * len(settled))
    frame = db.query(
        "SELECT m.hirer_id, m.attachment_id, m.url FROM attachment_manifest m "
        "LEFT JOIN attachment_files f ON f.attachment_id = m.attachment_id "
        f"WHERE {in_hirers('m.hirer_id')} AND (f.attachment_id IS NULL "
        f"OR f.status NOT IN ({marks})) ORDER BY 1, 2",
        [list(hirer_ids), *settled],
    )
    return capped(frame, limit)


def _discard(sink: BlobSink | HashOnlySink) -> None:
    if isinstance(sink, BlobSink):
        sink.discard()


async def _fetch_one(
    client: SeekClient, blobs: BlobStore, hirer_id: str, attachment_id: str, url: str
) -> dict[str, Any]:
    row: dict[str, Any] = {"attachment_id": attachment_id, "hirer_id": hirer_id}
    on_demand = hirer_id in blobs.refused
    sink: BlobSink | HashOnlySink = HashOnlySink() if on_demand else blobs.sink(hirer_id)
    try:
        done = await client.download(url, sink)
        if isinstance(sink, BlobSink):
            key = await asyncio.to_thread(sink.commit, done.sha256)
    except DownloadRefusedError as error:
        _discard(sink)
        return {**row, "status": "refused", "error": str(error)}
    except DownloadError as error:
        _discard(sink)
        status = error.reason if error.reason in TERMINAL else "error"
        return {**row, "status": status, "error": str(error)}
    except SeekError as error:
        _discard(sink)
        return {**row, "status": "error", "error": str(error)}
    mismatch = None if done.type_matches else "declared type differs from the file's content"
    return {
        **row,
        "sha256": done.sha256,
        "bytes": done.size,
        "declared_type": done.declared_type,
        "sniffed_type": done.sniffed_type,
        "safe_filename": done.safe_filename,
        "blob_uri": None if on_demand else key,  # relative to the blob root: no machine in it
        "status": ON_DEMAND if on_demand else STORED,
        "error": mismatch,
        "downloaded_at": datetime.now(UTC),
    }


async def sync_files(
    client: SeekClient,
    stores: Stores,
    hirer_ids: Sequence[str],
    *,
    retry_missing: bool = False,
    limit: int | None = None,
) -> dict[str, StageReport]:
    """Download the hirers' pending attachments (at most `limit` each, within the client's
    download limit); each outcome is journaled as it returns, then merged; one row each."""
    reports = {
        h: StageReport("attachment_files", h, attachments=mode(stores, h)) for h in hirer_ids
    }
    with stores.warehouse.session() as db:
        pending, over = pending_files(db, hirer_ids, retry_missing=retry_missing, limit=limit)
    for hirer_id in hirer_ids:
        stores.blobs.sweep_temp(hirer_id)  # what a killed download left half-written
    for hirer_id, count in forget_stored(stores, hirer_ids).items():
        reports[hirer_id].notes.append(f"switched to on demand: {count} stored file(s) deleted")

    async def one(hirer_id: str, attachment_id: str, url: str) -> dict[str, Any]:
        async with client.download_gate:
            row = await _fetch_one(client, stores.blobs, hirer_id, attachment_id, url)
        stores.journal.record("attachment_files", [row])
        return row

    rows = await asyncio.gather(*(one(*item) for item in pending.itertuples(index=False)))
    stores.merge()
    for row in rows:
        report = reports[row["hirer_id"]]
        report.states[row["status"]] += 1
        report.bytes += (row.get("bytes") or 0) if row["status"] == STORED else 0
        report.new += row["status"] in (STORED, ON_DEMAND)
        report.updated += row["status"] not in (STORED, ON_DEMAND)
        report.add_preview(
            {
                "attachment": row["attachment_id"],
                "status": row["status"],
                "type": row.get("sniffed_type") or row.get("declared_type"),
                "bytes": row.get("bytes"),
            }
        )
    for hirer_id, count in over.items():
        reports[hirer_id].notes.append(f"{count} file(s) left for the next run (cap)")
    return reports
