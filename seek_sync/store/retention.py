"""What retention says is due, read from the warehouse (run steps only; no Dagster).

- Files: a stored file whose upload to its hirer's target was confirmed more than the limit ago
  (the ATS holds it; our copy was a buffer). A file with any unsettled upload, or without a
  confirmed upload to the hirer's current target, is never due.
- Profiles: an application older than the limit, counted from when SEEK created it (we do not
  fetch the job ad's close date, so this deletes no later than SEEK's "180 days after the ad
  closes"). One whose stored file an unsettled upload still needs (or, for a hirer with a target,
  one with no upload row yet) is held until that upload settles.
- Hirers: relationship removed (in the warehouse's `hirers` table) more than the grace ago.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

import pandas as pd

from seek_sync.ats.base import SETTLED
from seek_sync.store.purge import Found
from seek_sync.store.sql import IN_LIST, Dialect, sql_literals, try_timestamptz
from seek_sync.store.warehouse import Reader, Session

_SETTLED = sql_literals(SETTLED)

# The hirers' current targets, as a table (hirer_id, target) from two parallel lists.
TARGETS = "targets AS (SELECT UNNEST(?::VARCHAR[]) AS hirer_id, UNNEST(?::VARCHAR[]) AS target)"

FILES_DUE = f"""
WITH {TARGETS}
SELECT f.hirer_id, f.attachment_id, f.sha256, COALESCE(f.bytes, 0) AS bytes
FROM attachment_files f LEFT JOIN targets t USING (hirer_id)
WHERE f.status = 'stored' AND f.sha256 IS NOT NULL AND NOT (f.hirer_id IN {IN_LIST})
  AND EXISTS (SELECT 1 FROM ats_uploads u WHERE u.attachment_id = f.attachment_id
              AND u.state = 'confirmed' AND u.updated_at < ?
              AND (t.target IS NULL OR u.target = t.target))
  AND NOT EXISTS (SELECT 1 FROM ats_uploads u WHERE u.attachment_id = f.attachment_id
                  AND u.state NOT IN ({_SETTLED}))
ORDER BY f.hirer_id, f.attachment_id
"""

# A stored file of the profile that an upload still needs.
NEEDED = f"""
EXISTS (SELECT 1 FROM attachment_manifest m JOIN attachment_files f USING (attachment_id)
        LEFT JOIN targets t ON t.hirer_id = f.hirer_id
        WHERE m.profile_id = a.profile_id AND f.status IN ('stored', 'on_demand')
          AND (EXISTS (SELECT 1 FROM ats_uploads u WHERE u.attachment_id = f.attachment_id
                       AND u.state NOT IN ({_SETTLED}))
               OR (t.target IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ats_uploads u
                   WHERE u.attachment_id = f.attachment_id AND u.target = t.target))))
"""


def profiles_due_sql(dialect: Dialect) -> str:
    """Applications born before a cutoff, with whether an unsettled upload holds them."""
    return f"""
WITH {TARGETS},
apps AS (
    SELECT hirer_id, profile_id, COALESCE(created_at, fetched_at) AS born
    FROM candidate_profiles
    UNION ALL  -- an application whose profile was never fetched: the event's own time
    SELECT e.hirer_id, e.profile_id, MIN({try_timestamptz(dialect, "e.created_at")})
    FROM application_events e
    WHERE e.profile_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM candidate_profiles p WHERE p.profile_id = e.profile_id)
    GROUP BY e.hirer_id, e.profile_id)
SELECT a.hirer_id, a.profile_id, a.born, {NEEDED} AS held
FROM apps a
WHERE a.born < ? AND NOT (a.hirer_id IN {IN_LIST})
ORDER BY a.born, a.profile_id
"""


REMOVED_HIRERS = """
SELECT hirer_id FROM hirers
WHERE relationship = 'removed' AND removed_at IS NOT NULL AND removed_at < ?
ORDER BY hirer_id
"""


def _targets(targets: Mapping[str, str]) -> list[list[str]]:
    hirers = sorted(targets)
    return [hirers, [targets[h] for h in hirers]]


def files_due(
    db: Reader,
    confirmed_before: datetime,
    targets: Mapping[str, str],
    *,
    skip_hirers: Sequence[str] = (),
) -> pd.DataFrame:
    """(hirer_id, attachment_id, sha256, bytes) of stored files confirmed before the cutoff."""
    return db.query(FILES_DUE, [*_targets(targets), list(skip_hirers), confirmed_before])


def profiles_due(
    db: Reader,
    created_before: datetime,
    targets: Mapping[str, str],
    *,
    skip_hirers: Sequence[str] = (),
) -> pd.DataFrame:
    """(hirer_id, profile_id, born, held) of applications created before the cutoff, oldest
    first; `held`: an unsettled upload still needs one of its files."""
    return db.query(
        profiles_due_sql(db.dialect), [*_targets(targets), created_before, list(skip_hirers)]
    )


def removed_hirers_due(db: Reader, removed_before: datetime) -> list[str]:
    """Hirers whose relationship was removed before the cutoff (per the `hirers` table)."""
    return [str(h) for h in db.query(REMOVED_HIRERS, [removed_before])["hirer_id"]]


def unshared_blobs(db: Reader, files: pd.DataFrame) -> set[tuple[str, str]]:
    """(hirer, sha256) of the given files that no other stored file of the hirer uses."""
    if files.empty:
        return set()
    others = db.query(
        "SELECT DISTINCT hirer_id, sha256 FROM attachment_files WHERE status = 'stored' "
        f"AND sha256 IN {IN_LIST} AND attachment_id NOT IN {IN_LIST}",
        [sorted(set(files["sha256"])), list(files["attachment_id"])],
    )
    used = set(others.itertuples(index=False, name=None))
    return {(str(h), str(s)) for h, s in zip(files["hirer_id"], files["sha256"], strict=True)} - {
        (str(h), str(s)) for h, s in used
    }


def purged_files(
    db: Reader,
    found: Found,
    *,
    skip: Collection[str] = (),
    freed: Collection[tuple[str, str]] = (),
) -> pd.DataFrame:
    """Per hirer (the index), the stored files a purge removes and the bytes of the blobs it
    deletes; files in `skip` and blobs in `freed` (a dry run's expired files) not counted."""
    files = db.query(
        "SELECT attachment_id, hirer_id, sha256, COALESCE(bytes, 0) AS bytes "
        f"FROM attachment_files WHERE attachment_id IN {IN_LIST} AND status = 'stored'",
        [found.attachment_ids],
    )
    files = files[~files["attachment_id"].isin(list(skip))]
    blobs = set(found.blobs) - set(freed)
    pairs = zip(files["hirer_id"], files["sha256"], strict=True)
    mask = pd.Series([(str(h), str(s)) in blobs for h, s in pairs], index=files.index, dtype=bool)
    deleted = files[mask]
    unique = deleted.drop_duplicates(["hirer_id", "sha256"])
    frame = pd.DataFrame(
        {
            "files": files.groupby("hirer_id").size(),
            "bytes": unique.groupby("hirer_id")["bytes"].sum(),
        }
    )
    return frame.fillna(0).astype(int)


EXPIRE = f"""
UPDATE attachment_files SET status = 'expired', error = ?, blob_uri = NULL, sha256 = NULL
WHERE attachment_id IN {IN_LIST} AND status = 'stored'
"""


def expire(db: Session, attachment_ids: Sequence[str], reason: str) -> None:
    """Mark the files `expired` (terminal: never downloaded or sent again), with the reason; the
    row stays (the attachment is accounted for), its blob address and hash go."""
    if attachment_ids:
        db.execute(EXPIRE, [reason, list(attachment_ids)])


UNSETTLED_KEYS = f"""
SELECT idempotency_key FROM ats_uploads
WHERE state NOT IN ({_SETTLED}) AND idempotency_key IS NOT NULL
UNION
SELECT idempotency_key FROM ats_candidates
WHERE state = 'pending_create' AND idempotency_key IS NOT NULL
"""


def unsettled_keys(db: Reader) -> set[str]:
    """Idempotency keys an unsettled upload or create still waits on (their callbacks stay)."""
    return {str(k) for k in db.query(UNSETTLED_KEYS)["idempotency_key"]}
