"""Stages 2 and 3: candidate profiles over SEEK's GraphQL API, and the attachment manifest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from seek_sync.pipeline.events import APPLICATION_CREATED
from seek_sync.pipeline.report import StageReport, capped, split_new_updated
from seek_sync.pipeline.stores import Stores
from seek_sync.seek.client import SeekClient
from seek_sync.seek.models import CandidateProfile
from seek_sync.seek.profiles import ProfileResult
from seek_sync.store.warehouse import Session, Warehouse, in_hirers

# A profile in one of these states is not fetched again (`error` is retried on the next run).
SETTLED_PROFILE = ("ok", "not_found", "forbidden", "wrong_hirer")


def pending_profiles(
    db: Session, hirer_ids: Sequence[str], *, retry_settled: bool, limit: int | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """(hirer_id, profile_id) of application events with no settled profile row, at most `limit`
    per hirer; and per hirer how many more are pending than the limit let through."""
    settled = "('ok')" if retry_settled else str(SETTLED_PROFILE)
    frame = db.query(
        "SELECT DISTINCT e.hirer_id, e.profile_id FROM application_events e "
        "LEFT JOIN candidate_profiles p ON p.profile_id = e.profile_id "
        f"WHERE {in_hirers('e.hirer_id')} AND e.type_code = ? AND e.profile_id IS NOT NULL "
        f"AND (p.profile_id IS NULL OR p.status NOT IN {settled}) ORDER BY 1, 2",
        [list(hirer_ids), APPLICATION_CREATED],
    )
    return capped(frame, limit)


def profile_row(hirer_id: str, result: ProfileResult, fetched_at: datetime) -> dict[str, object]:
    profile, status, error = result.profile, result.status, result.error
    if profile is not None and profile.hirer_id not in (None, hirer_id):
        # Never store one hirer's candidate under another hirer's partition.
        profile, status, error = None, "wrong_hirer", "profile belongs to another hirer"
    position = profile.associated_position_profile if profile else None
    return {
        "profile_id": result.profile_id,
        "hirer_id": hirer_id,
        "candidate_id": profile.candidate.document_id.value
        if profile and profile.candidate.document_id
        else None,
        "job_reference": position.seek_hirer_job_reference if position else None,
        "created_at": profile.create_date_time if profile else None,
        "status": status,
        "error": error,
        "attachments": len(profile.attachments) if profile else None,
        "raw_json": json.dumps(result.raw, ensure_ascii=False) if profile else None,
        "fetched_at": fetched_at,
    }


async def sync_profiles(
    client: SeekClient,
    stores: Stores,
    hirer_ids: Sequence[str],
    *,
    retry_settled: bool = False,
    limit: int | None = None,
) -> dict[str, StageReport]:
    """Fetch the hirers' pending profiles (at most `limit` each; bounded concurrency), each
    journaled as it returns, then merged into the warehouse: typed columns plus JSON."""
    reports = {h: StageReport("candidate_profiles", h) for h in hirer_ids}
    with stores.warehouse.session() as db:
        pending, over = pending_profiles(db, hirer_ids, retry_settled=retry_settled, limit=limit)
        if pending.empty:
            return reports
        existing = db.query(
            f"SELECT profile_id, status FROM candidate_profiles WHERE {in_hirers()}",
            [list(hirer_ids)],
        )
    owner = dict(zip(pending["profile_id"], pending["hirer_id"], strict=True))
    rows: list[dict[str, object]] = []

    def journal(result: ProfileResult) -> None:
        row = profile_row(owner[result.profile_id], result, datetime.now(UTC))
        stores.journal.record("candidate_profiles", [row])
        rows.append(row)

    await client.profiles(list(owner), on_result=journal)
    stores.merge()
    frame = pd.DataFrame(rows)
    for hirer_id, part in frame.groupby("hirer_id"):
        report = reports[str(hirer_id)]
        _, report.new, report.updated, report.unchanged = split_new_updated(
            existing, part, ["profile_id"], ["status"]
        )
        for row in part.itertuples():
            report.states[str(row.status)] += 1
            report.add_preview(
                {"profile": row.profile_id, "status": row.status, "attachments": row.attachments}
            )
    for hirer_id, count in over.items():
        reports[hirer_id].notes.append(f"{count} profile(s) left for the next run (cap)")
    return reports


def _role(code: str | None) -> str | None:
    return code if code in ("Resume", "CoverLetter", "SelectionCriteria") else None


def sync_manifest(warehouse: Warehouse, hirer_ids: Sequence[str]) -> dict[str, StageReport]:
    """One manifest row per attachment of every stored profile of the hirers that lacks them."""
    reports = {h: StageReport("attachment_manifest", h) for h in hirer_ids}
    rows = []
    with warehouse.session() as db:
        profiles = db.query(
            "SELECT p.hirer_id, p.profile_id, p.raw_json FROM candidate_profiles p "
            f"WHERE {in_hirers('p.hirer_id')} AND p.status = 'ok' AND NOT EXISTS "
            "(SELECT 1 FROM attachment_manifest m WHERE m.profile_id = p.profile_id)",
            [list(hirer_ids)],
        )
        for hirer_id, profile_id, raw in profiles.itertuples(index=False):
            profile = CandidateProfile.model_validate(json.loads(raw))
            report = reports[hirer_id]
            for attachment in profile.attachments:
                role = _role(attachment.seek_role_code)
                rows.append(
                    {
                        "attachment_id": attachment.id.value,
                        "hirer_id": hirer_id,
                        "profile_id": profile_id,
                        "role": role,
                        "url": attachment.url,
                        "descriptions": json.dumps(attachment.descriptions, ensure_ascii=False),
                    }
                )
                report.new += 1
                report.states[role or "Other"] += 1
                report.add_preview(
                    {
                        "attachment": attachment.id.value,
                        "profile": profile_id,
                        "role": role or "Other",
                    }
                )
        db.upsert("attachment_manifest", rows)
    return reports
