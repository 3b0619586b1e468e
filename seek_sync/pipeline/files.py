"""Stage 4: each manifest attachment streamed into the blob store under its hirer's prefix."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from seek_sync.pipeline.report import StageReport
from seek_sync.pipeline.stores import Stores
from seek_sync.seek.client import SeekClient
from seek_sync.seek.errors import DownloadError, DownloadRefusedError, SeekError
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Warehouse

STORED = "stored"
# Outcomes that a later run cannot change by itself; `error` (network, 5xx) is retried every run
# and `not_found` by the nightly reconcile.
TERMINAL = ("stored", "refused", "too_large", "forbidden", "redirect", "not_found")


def pending_files(warehouse: Warehouse, hirer_id: str, *, retry_missing: bool) -> pd.DataFrame:
    settled = [s for s in TERMINAL if not (retry_missing and s == "not_found")]
    marks = ", ".join("?" * len(settled))
    return warehouse.query(
        "SELECT m.attachment_id, m.url FROM attachment_manifest m "
        "LEFT JOIN attachment_files f ON f.attachment_id = m.attachment_id "
        f"WHERE m.hirer_id = ? AND (f.attachment_id IS NULL OR f.status NOT IN ({marks})) "
        "ORDER BY m.attachment_id",
        [hirer_id, *settled],
    )


async def _fetch_one(
    client: SeekClient, blobs: BlobStore, hirer_id: str, attachment_id: str, url: str
) -> dict[str, Any]:
    row: dict[str, Any] = {"attachment_id": attachment_id, "hirer_id": hirer_id}
    sink = blobs.sink(hirer_id)
    try:
        done = await client.download(url, sink)
        key = await asyncio.to_thread(sink.commit, done.sha256)
    except DownloadRefusedError as error:
        sink.discard()
        return {**row, "status": "refused", "error": str(error)}
    except DownloadError as error:
        sink.discard()
        status = error.reason if error.reason in TERMINAL else "error"
        return {**row, "status": status, "error": str(error)}
    except SeekError as error:
        sink.discard()
        return {**row, "status": "error", "error": str(error)}
    mismatch = None if done.type_matches else "declared type differs from the file's content"
    return {
        **row,
        "sha256": done.sha256,
        "bytes": done.size,
        "declared_type": done.declared_type,
        "sniffed_type": done.sniffed_type,
        "safe_filename": done.safe_filename,
        "blob_uri": blobs.uri(key),
        "status": STORED,
        "error": mismatch,
        "downloaded_at": datetime.now(UTC),
    }


async def sync_files(
    client: SeekClient,
    stores: Stores,
    hirer_id: str,
    *,
    retry_missing: bool = False,
    limit: int | None = None,
) -> StageReport:
    """Download pending attachments (at most `limit`, within the client's download limit); each
    outcome is journaled as it returns, then merged; one row per attachment, always."""
    report = StageReport("attachment_files", hirer_id)
    pending = pending_files(stores.warehouse, hirer_id, retry_missing=retry_missing)
    items = list(pending.itertuples(index=False))[:limit]
    stores.blobs.sweep_temp(hirer_id)  # what a killed download left half-written

    async def one(attachment_id: str, url: str) -> dict[str, Any]:
        async with client.download_gate:
            row = await _fetch_one(client, stores.blobs, hirer_id, attachment_id, url)
        stores.journal.record("attachment_files", [row])
        return row

    rows = list(await asyncio.gather(*(one(a, u) for a, u in items)))
    stores.merge()
    for row in rows:
        report.states[row["status"]] += 1
        report.bytes += row.get("bytes") or 0
        report.add_preview(
            {
                "attachment": row["attachment_id"],
                "status": row["status"],
                "type": row.get("sniffed_type") or row.get("declared_type"),
                "bytes": row.get("bytes"),
            }
        )
    report.new = sum(1 for row in rows if row["status"] == STORED)
    report.updated = len(rows) - report.new
    if len(pending) > len(items):
        report.notes.append(f"{len(pending) - len(items)} file(s) left for the next run (cap)")
    return report
