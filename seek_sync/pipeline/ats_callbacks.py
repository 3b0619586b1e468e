"""The callbacks a run waits for: its own sends' outcomes, applied before the run ends.

An Onderwijsregio send is answered 202 and confirmed by a signed callback moments later (its
mutation delay). Without waiting, the callback lands in the inbox after the run ended and the
upload counts as confirmed only once another run applies it: a whole tick later. So a run that
left sends waiting gives their callbacks up to `ats_callback_wait_seconds` (the inbox read every
`POLL_SECONDS`), then reconciles those applications once more in the same run. Callbacks that do
not come in time are applied by a later run, as before. No Dagster here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from seek_sync.ats import callbacks as callback_bodies
from seek_sync.ats.base import WAITING, AtsCandidate, AtsFile, CallbackResult
from seek_sync.pipeline.ats_state import AtsState
from seek_sync.runstate.inbox import Inbox

POLL_SECONDS = 0.1

Application = tuple[AtsCandidate, list[AtsFile]]


def waiting_keys(state: AtsState, applications: Sequence[Application]) -> set[str]:
    """The idempotency keys of these applications' sends still waiting for their outcome (a
    create in flight, an accepted upload)."""
    keys: set[str] = set()
    for candidate, files in applications:
        record = state.candidates.get(candidate.seek_candidate_id)
        if record is not None and record.state == "pending_create" and record.idempotency_key:
            keys.add(record.idempotency_key)
        for file in files:
            upload = state.uploads.get(file.attachment_id)
            if upload is not None and upload.state in WAITING and upload.idempotency_key:
                keys.add(upload.idempotency_key)
    return keys


async def callbacks_for(
    inbox: Inbox, hirer_id: str, kind: str, keys: set[str], seconds: float
) -> list[CallbackResult]:
    """The hirer's callbacks for target `kind`, read until every one of `keys` has one or
    `seconds` passed."""
    deadline = time.monotonic() + seconds
    while True:
        stored = await asyncio.to_thread(inbox.callbacks_for_hirer, hirer_id, kind)
        results = callback_bodies.results([c.raw for c in stored])
        if keys <= {r.idempotency_key for r in results} or time.monotonic() >= deadline:
            return results
        await asyncio.sleep(POLL_SECONDS)
