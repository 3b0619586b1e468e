"""What purge tombstones cover in the warehouse (run steps only; no Dagster).

After a restore the tombstones of later purges are applied again (`pipeline/reapply.py`). A
`profile` tombstone covers its application; a `candidate` or `hirer` one covers the applications
created up to its purge (a later application is new data, as for the inbox's tombstones), an
application of unknown date included (never guess in favour of bringing data back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from seek_sync.store.sql import IN_LIST, try_timestamptz
from seek_sync.store.warehouse import Reader

Key = Literal["hirer_id", "person", "profile_id"]
CHUNK = 10_000  # keys per query (one list parameter each)

# Every application the warehouse knows: a fetched profile, or only its events (not fetched yet).
# `person` is what a candidate purge selects by (the candidate id, else the profile id).
APPLICATIONS = """
WITH apps AS (
    SELECT hirer_id, profile_id, COALESCE(candidate_id, profile_id) AS person,
           COALESCE(created_at, fetched_at) AS born
    FROM candidate_profiles
    UNION ALL
    SELECT e.hirer_id, e.profile_id, MIN(COALESCE(e.candidate_id, e.profile_id)), MIN({born})
    FROM application_events e
    WHERE e.profile_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM candidate_profiles p WHERE p.profile_id = e.profile_id)
    GROUP BY e.hirer_id, e.profile_id)
SELECT hirer_id, profile_id, person, born FROM apps WHERE {key} IN {in_list}
"""
COLUMNS = ["hirer_id", "profile_id", "person", "born"]


def applications(db: Reader, key: Key, values: Sequence[str]) -> pd.DataFrame:
    """The applications whose `key` is one of `values`: hirer, profile, person and birth (UTC,
    NaT when unknown)."""
    sql = APPLICATIONS.format(
        born=try_timestamptz(db.dialect, "e.created_at"), key=key, in_list=IN_LIST
    )
    frames = [
        db.query(sql, [list(values[start : start + CHUNK])])
        for start in range(0, len(values), CHUNK)
    ]
    found = [f for f in frames if not f.empty]
    if not found:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.concat(found, ignore_index=True)[COLUMNS]
    frame["born"] = pd.to_datetime(frame["born"], utc=True)
    return frame


def covered(frame: pd.DataFrame, key: Key, purged_at: dict[str, str]) -> pd.Series:
    """Which applications a tombstone on their `key` covers: born at or before its purge, or of
    unknown birth (a `profile` tombstone covers its application whatever its date)."""
    if frame.empty:
        return pd.Series([], dtype=bool)
    if key == "profile_id":
        return frame["profile_id"].isin(set(purged_at))
    moments = pd.to_datetime(frame[key].map(purged_at), utc=True, format="ISO8601")
    return frame["born"].isna() | (frame["born"] <= moments)
