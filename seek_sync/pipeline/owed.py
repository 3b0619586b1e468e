"""What hirers still owe after a run, counted from the warehouse in one read (run steps only)."""

from __future__ import annotations

from collections.abc import Collection

from seek_sync.ats.base import SETTLED, WAITING
from seek_sync.pipeline.events import APPLICATION_CREATED
from seek_sync.pipeline.files import TERMINAL
from seek_sync.runstate.ledger import Owed
from seek_sync.store.sql import epoch, sql_literals
from seek_sync.store.warehouse import Warehouse

_TERMINAL, _SETTLED, _WAITING = sql_literals(TERMINAL), sql_literals(SETTLED), sql_literals(WAITING)

# One row per (hirer, kind, bucket): bucket is backlog, retry or waiting.
# The hirers asked for, as a subquery of one list parameter.
_H = "h AS (SELECT hirer_id FROM (SELECT UNNEST(?::VARCHAR[]) AS hirer_id) AS asked)"
_NO_TIME = "CAST(NULL AS DOUBLE PRECISION)"

OWED_SQL = f"""
WITH {_H}
SELECT e.hirer_id, CASE WHEN p.status = 'error' THEN 'retry' ELSE 'backlog' END AS bucket,
       COUNT(DISTINCT e.profile_id) AS n, {_NO_TIME} AS since
FROM application_events e JOIN h USING (hirer_id)
LEFT JOIN candidate_profiles p ON p.profile_id = e.profile_id
WHERE e.type_code = '{APPLICATION_CREATED}' AND e.profile_id IS NOT NULL
  AND (p.profile_id IS NULL OR p.status = 'error')
GROUP BY e.hirer_id, bucket
UNION ALL
SELECT p.hirer_id, 'backlog', COUNT(*), {_NO_TIME}
FROM candidate_profiles p JOIN h USING (hirer_id)
WHERE p.status = 'ok' AND p.attachments > 0
  AND NOT EXISTS (SELECT 1 FROM attachment_manifest m WHERE m.profile_id = p.profile_id)
GROUP BY p.hirer_id
UNION ALL
SELECT m.hirer_id, CASE WHEN f.attachment_id IS NULL THEN 'backlog' ELSE 'retry' END, COUNT(*),
       {_NO_TIME}
FROM attachment_manifest m JOIN h USING (hirer_id)
LEFT JOIN attachment_files f ON f.attachment_id = m.attachment_id
WHERE f.attachment_id IS NULL OR f.status NOT IN ({_TERMINAL})
GROUP BY m.hirer_id, 2
"""

UPLOADS_SQL = f"""
WITH {_H}
SELECT f.hirer_id,
       CASE WHEN u.state IS NULL OR u.state = 'pending' AND COALESCE(u.failures, 0) = 0
            THEN 'backlog' WHEN u.state IN ({_WAITING}) THEN 'waiting' ELSE 'retry' END AS bucket,
       COUNT(*) AS n, MIN({epoch("COALESCE(u.sent_at, u.updated_at)")}) AS since
FROM attachment_files f JOIN h USING (hirer_id)
LEFT JOIN ats_uploads u ON u.attachment_id = f.attachment_id
WHERE f.status IN ('stored', 'on_demand')
  AND (u.state IS NULL OR u.state NOT IN ({_SETTLED}))
GROUP BY f.hirer_id, bucket
UNION ALL
SELECT c.hirer_id, 'waiting', COUNT(*), MIN({epoch("c.updated_at")})
FROM ats_candidates c JOIN h USING (hirer_id)
WHERE c.state = 'pending_create'
GROUP BY c.hirer_id
"""


def owed_by_hirer(
    warehouse: Warehouse, hirer_ids: Collection[str], *, with_target: Collection[str]
) -> dict[str, Owed]:
    """Per hirer: items never attempted, items to retry, and uploads waiting for a callback.

    Uploads count only for hirers with an ATS target (`with_target`)."""
    owed = {h: Owed() for h in hirer_ids}
    if not owed:
        return owed
    with warehouse.session() as db:
        rows = db.rows(OWED_SQL, [list(owed)])
        mapped = [h for h in owed if h in set(with_target)]
        if mapped:
            rows += db.rows(UPLOADS_SQL, [mapped])
    for hirer_id, bucket, count, since in rows:
        item = owed[hirer_id]
        setattr(item, bucket, getattr(item, bucket) + int(count))
        if bucket == "waiting" and since is not None:
            item.waiting_since = min(item.waiting_since or since, since)
    return owed
