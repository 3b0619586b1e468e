"""Per-hirer totals of the warehouse: what the demo prints and checks against the sandbox."""

from __future__ import annotations

import pandas as pd

from seek_sync.ats.base import NOT_SENT, SETTLED
from seek_sync.store.sql import sql_literals
from seek_sync.store.warehouse import Warehouse

PER_HIRER = f"""
WITH apps AS (
    SELECT hirer_id, COUNT(DISTINCT profile_id) AS applications FROM application_events
    WHERE type_code = 'CandidateApplicationCreated' GROUP BY hirer_id),
profiles AS (
    SELECT hirer_id, COUNT(*) FILTER (WHERE status = 'ok') AS profiles FROM candidate_profiles
    GROUP BY hirer_id),
files AS (
    SELECT hirer_id, COUNT(*) FILTER (WHERE status = 'stored') AS files,
           COUNT(*) FILTER (WHERE status = 'on_demand') AS on_demand,
           COUNT(*) FILTER (WHERE status NOT IN ('stored', 'expired', 'on_demand')) AS not_stored,
           COUNT(*) FILTER (WHERE status = 'expired') AS expired,
           CAST(COALESCE(SUM(bytes) FILTER (WHERE status = 'stored'), 0) AS BIGINT) AS bytes
    FROM attachment_files GROUP BY hirer_id),
uploads AS (
    SELECT hirer_id, MIN(target) AS target,
           COUNT(*) FILTER (WHERE state = 'confirmed') AS confirmed,
           COUNT(*) FILTER (WHERE state = 'rejected') AS rejected,
           COUNT(*) FILTER (WHERE state = 'failed') AS failed,
           COUNT(*) FILTER (WHERE state NOT IN ({sql_literals(SETTLED)})) AS open
    FROM ats_uploads GROUP BY hirer_id)
SELECT h.hirer_id, h.target AS mapped_target, h.relationship,
       COALESCE(a.applications, 0) AS applications, COALESCE(p.profiles, 0) AS profiles,
       COALESCE(f.files, 0) AS files, COALESCE(f.on_demand, 0) AS on_demand,
       COALESCE(f.not_stored, 0) AS not_stored,
       COALESCE(f.expired, 0) AS expired,
       CAST(COALESCE(f.bytes, 0) AS BIGINT) AS bytes,
       COALESCE(u.confirmed, 0) AS confirmed, COALESCE(u.rejected, 0) AS rejected,
       COALESCE(u.failed, 0) AS failed, COALESCE(u.open, 0) AS open
FROM hirers h LEFT JOIN apps a USING (hirer_id) LEFT JOIN profiles p USING (hirer_id)
LEFT JOIN files f USING (hirer_id) LEFT JOIN uploads u USING (hirer_id)
ORDER BY h.hirer_id
"""

REJECTIONS = f"""
SELECT target, state, last_error AS reason, COUNT(*) AS uploads FROM ats_uploads
WHERE state IN ({sql_literals(NOT_SENT)})
GROUP BY target, state, last_error ORDER BY state DESC, uploads DESC, reason
"""


def per_hirer(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query(PER_HIRER)


def rejections(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query(REJECTIONS)
