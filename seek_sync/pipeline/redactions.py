"""SEEK's deletions followed: stored profiles re-read, the redacted ones purged here (and, when
enabled, the files we sent withdrawn from the ATS).

SEEK publishes no event when a candidate or an application is deleted; the profile then answers
redacted (seek-api.md §4, §7). So a bounded number of stored profiles per run, the least recently
checked first and each at most once per `redaction_recheck_hours`, is fetched again through the
client's usual concurrency limit and retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from seek_sync.ats.factory import AtsTargets
from seek_sync.pipeline.stores import Stores
from seek_sync.seek.client import SeekClient
from seek_sync.store.sql import IN_LIST

DUE_SQL = """
SELECT profile_id FROM candidate_profiles
WHERE status = 'ok' AND (checked_at IS NULL OR checked_at < ?)
ORDER BY COALESCE(checked_at, fetched_at), profile_id LIMIT ?
"""

SENT_SQL = f"""
SELECT u.hirer_id, c.ats_id, array_agg(u.ats_attachment_id) AS ids
FROM ats_uploads u JOIN attachment_manifest m USING (attachment_id)
JOIN candidate_profiles p USING (profile_id)
JOIN ats_candidates c ON c.target = u.target AND c.hirer_id = u.hirer_id
  AND c.seek_candidate_id = COALESCE(p.candidate_id, p.profile_id)
WHERE p.profile_id IN {IN_LIST} AND u.state = 'confirmed' AND u.ats_attachment_id IS NOT NULL
  AND c.ats_id IS NOT NULL
GROUP BY u.hirer_id, c.ats_id
"""


@dataclass
class Recheck:
    """What one pass found: ids and counts only."""

    checked: int = 0
    redacted: list[str] = field(default_factory=list)  # profile ids SEEK deleted
    errors: int = 0  # not read this time (retried on a later pass)
    withdrawn: int = 0  # files deleted from an ATS
    not_withdrawn: dict[str, str] = field(default_factory=dict)  # hirer -> why not


async def recheck(seek: SeekClient, stores: Stores, *, limit: int, every: timedelta) -> Recheck:
    """Re-read up to `limit` profiles not checked for `every`; record the check of each one that
    SEEK still holds, and return the ones it deleted (the caller purges them)."""
    now = datetime.now(UTC)
    with stores.warehouse.session() as db:
        due = [str(p) for p in db.query(DUE_SQL, [now - every, limit])["profile_id"]]
    found = Recheck()
    if not due:
        return found
    read = {r.profile_id: r.profile for r in await seek.profiles(due) if r.profile}
    found.redacted = [p for p, profile in read.items() if profile.redacted]
    still = [p for p, profile in read.items() if not profile.redacted]
    found.checked, found.errors = len(read), len(due) - len(read)
    with stores.warehouse.session() as db:
        db.execute(
            f"UPDATE candidate_profiles SET checked_at = ? WHERE profile_id IN {IN_LIST}",
            [now, still],
        )
    return found


async def withdraw(
    targets: AtsTargets, stores: Stores, profile_ids: Sequence[str], into: Recheck
) -> None:
    """Delete from each hirer's ATS the files we sent for these applications (before the purge
    removes the ids that name them)."""
    with stores.warehouse.session() as db:
        sent = db.query(SENT_SQL, [list(profile_ids)]).itertuples(index=False)
    for hirer_id, ats_id, ids in sent:
        target = targets.for_hirer(hirer_id)
        if target is None:
            continue
        why_not = await target.withdraw(str(ats_id), [str(i) for i in ids])
        if why_not:
            into.not_withdrawn[hirer_id] = why_not
        else:
            into.withdrawn += len(ids)
