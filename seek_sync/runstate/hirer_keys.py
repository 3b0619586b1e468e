"""Hirer keys: the short name each SEEK hirer is known by in Dagster (its partition key).

A SEEK hirer id (`seekAnzPublicTest:organization:seek:45ub7Qe4`) is too long for the places the
Dagster UI shows partition keys, which cut it in the middle, keeping the prefix every hirer
shares. A hirer key is a slug of the hirer's name, then the last characters of its id's token,
sized to fit the narrowest of those places (`seek_sync/hirer_slugs.py`): `blue-gum-7Qe4`.

The `hirer_keys` table (inbox database) is the one map between the two. A key is made once, from
the name SEEK gives the hirer when it is first made, and never changes (not when SEEK renames the
hirer, not when the hirer is purged and comes back): Dagster keeps materializations, check results
and run tags by partition key, so a changed key would orphan the hirer's history. Keys are unique
(a primary key and a unique index; a key taken by another hirer gets more of the token).

A partition key that is itself a SEEK hirer id is one made by an earlier release, before keys:
it still names that hirer (`hirers_of`), until the tick renames the partition
(`seek_sync.partition_upgrade`). No Dagster here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from seek_sync.hirer_slugs import make_key
from seek_sync.ids import InvalidHirerIdError, is_hirer_id
from seek_sync.runstate.inbox import Inbox
from seek_sync.runstate.rows import utc_now


class HirerKeys:
    """The `hirer_keys` table: hirer id <-> partition key."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def all(self) -> dict[str, str]:
        """Every hirer id that has a key -> its key."""
        rows = self.inbox.read("SELECT hirer_id, partition_key FROM hirer_keys")
        return {r["hirer_id"]: r["partition_key"] for r in rows}

    def assign(self, names: Mapping[str, str | None]) -> dict[str, str]:
        """The key of each hirer in `names` (hirer id -> its name, or None), made now for those
        without one; raises `InvalidHirerIdError` for anything but a SEEK hirer id."""
        for hirer_id in names:
            if not is_hirer_id(hirer_id):
                raise InvalidHirerIdError(hirer_id)
        if not names:
            return {}
        with self.inbox.transaction() as conn:
            conn.serialise("hirer_keys")  # one assigner at a time: keys stay unique
            rows = conn.execute("SELECT hirer_id, partition_key FROM hirer_keys").fetchall()
            keys = {r["hirer_id"]: r["partition_key"] for r in rows}
            taken, new = set(keys.values()), []
            for hirer_id in sorted(set(names) - set(keys)):
                key = make_key(hirer_id, names[hirer_id], taken)
                taken.add(key)
                keys[hirer_id] = key
                new.append((hirer_id, key, utc_now()))
            conn.executemany(
                "INSERT INTO hirer_keys (hirer_id, partition_key, created_at) VALUES (?, ?, ?)",
                new,
            )
        return {h: keys[h] for h in names}

    def keys_of(self, hirer_ids: Iterable[str]) -> dict[str, str]:
        """Each hirer's partition key: its key, else (made by an earlier release) its id."""
        known = self.all()
        return {h: known.get(h, h) for h in hirer_ids}

    def hirers_of(self, keys: Iterable[str]) -> dict[str, str]:
        """Each partition key's hirer id (a key that is a hirer id names that hirer); raises
        `UnknownHirerKeyError` for a key no hirer has."""
        by_key = {k: h for h, k in self.all().items()}
        found = {}
        for key in keys:
            hirer_id = by_key.get(key) or (key if is_hirer_id(key) else None)
            if hirer_id is None:
                raise UnknownHirerKeyError(key)
            found[key] = hirer_id
        return found


class UnknownHirerKeyError(KeyError):
    """A partition key that is no hirer's (one line)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no hirer has the partition key {self.key!r} (`seek-sync hirers` lists them)"
