"""A tick's new hirers get their keys before any run is planned for them.

A key is made once, from the hirer's name (`seek_sync/runstate/hirer_keys.py`), so the name must be
known first: a hirer new to us usually arrives with its first application, before the `hirers`
asset has read its name. The tick therefore asks SEEK for the names (one query, only when a due
hirer without a key has no name in the inbox). If SEEK cannot answer, those hirers wait for the
next tick (they stay owed); a hirer SEEK names nowhere gets a key without a name (`hirer-7Qe4`).
No Dagster here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping

from seek_sync.ids import is_hirer_id, shown
from seek_sync.pipeline.hirers import hirer_names
from seek_sync.runstate.hirer_keys import HirerKeys
from seek_sync.runstate.inbox import Inbox

NameSource = Callable[[], Mapping[str, str]]  # SEEK's names of every related hirer (may raise)


class KeyMaker:
    """Makes the keys of hirers that have none; `keys` holds every key known after a call."""

    def __init__(self, inbox: Inbox, names_from_seek: NameSource, log: logging.Logger) -> None:
        self.table, self.inbox = HirerKeys(inbox), inbox
        self.names_from_seek, self.log = names_from_seek, log
        self._keys: dict[str, str] | None = None

    @property
    def keys(self) -> dict[str, str]:
        if self._keys is None:
            self._keys = self.table.all()
        return self._keys

    def key(self, hirer_id: str) -> str:
        """The hirer's partition key (an earlier release's partition: its id)."""
        return self.keys.get(hirer_id, hirer_id)

    def unready(self, hirer_ids: Collection[str]) -> set[str]:
        """Give every hirer of `hirer_ids` a key; returns those that cannot have one yet (SEEK
        did not answer for their names) or ever (not a SEEK hirer id, logged)."""
        self._keys = self.table.all()
        missing = [h for h in hirer_ids if h not in self._keys]
        refused = {h for h in missing if not is_hirer_id(h)}
        for hirer_id in sorted(refused):
            self.log.warning("no partition for %s: not a SEEK hirer id", shown(hirer_id))
        missing = [h for h in missing if h not in refused]
        if not missing:
            return refused
        names = hirer_names(self.inbox)
        if any(h not in names for h in missing):
            try:
                names |= self.names_from_seek()
            except Exception as error:  # any failure: the hirers wait for the next tick
                waiting = {h for h in missing if h not in names}
                self.log.warning(
                    "%d new hirer(s) wait for their names (SEEK: %s)",
                    len(waiting),
                    shown(str(error), 120),
                )
                refused |= waiting
                missing = [h for h in missing if h not in waiting]
        self._keys |= self.table.assign({h: names.get(h) for h in missing})
        return refused
