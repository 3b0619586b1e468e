"""`seek-sync hirers`: each hirer's partition key beside its SEEK id and name.

The Dagster UI and the backfill commands (`dagster asset materialize --partition KEY`) name a
hirer by its key; `seek-sync purge --hirer` and the hirer map by its SEEK id. This lists both from
the inbox (`hirer_keys`, `seek_sync/runstate/hirer_keys.py`). Registered on the main `seek-sync`
app (`cli.py`).
"""

from __future__ import annotations

import typer


def hirers() -> None:
    """List each hirer's partition key, SEEK hirer id and name (tab-separated, by key)."""
    from seek_sync.backend import open_inbox
    from seek_sync.cli import _load
    from seek_sync.pipeline.hirers import hirer_names
    from seek_sync.runstate.hirer_keys import HirerKeys
    from seek_sync.settings import HomeFields

    with open_inbox(_load(HomeFields)) as inbox:
        keys, names = HirerKeys(inbox).all(), hirer_names(inbox)
    for hirer_id, key in sorted(keys.items(), key=lambda item: item[1]):
        typer.echo(f"{key}\t{hirer_id}\t{names.get(hirer_id, '')}")
