"""How an Onderwijsregio send reaches a terminal state, with evidence.

1. A signed callback for the send's key settles it: `succeeded` confirms (the key is ours alone:
   per hirer, application and file set), `failed` means nothing was applied, so the file is sent
   again under a fresh key (or `failed` once `ats_max_sends` sends are spent).
2. With no callback, nothing is read until `ats_confirm_timeout_seconds` after the send. Then the
   candidate is read back and the file is confirmed only by evidence (`evidence.claim`: name and
   size, unclaimed by any other upload of this target).
3. Accepted, no outcome and no file after the wait: the send is repeated as it was (same files,
   key and payload), which the ATS applies at most once whether the first one is still queued,
   was lost, or failed. Whether repeating a failed key runs it again is unconfirmed
   (`SEEK_SYNC_ONDERWIJSREGIO_FAILED_KEY_RERUNS`): when it does, repeats go on up to the cap;
   when it does not, one repeat is made (it helps if the first send was lost, or if the ATS
   answers a repeat with the stored result's callback) and then the upload is `failed` with the
   reason, since only a fresh key would send it again and that could store it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from seek_sync.ats.base import (
    AtsCandidate,
    AtsFile,
    CallbackResult,
    CandidateRecord,
    UploadRecord,
)
from seek_sync.ats.evidence import Claims, Seen, claim, claims_of
from seek_sync.ats.onderwijsregio_api import OnderwijsregioClient, OrCandidate


def seen_on(found: OrCandidate | None) -> list[Seen]:
    """A candidate's attachments as read-back evidence."""
    if found is None:
        return []
    return [Seen(a.id, a.filename, a.size, a.type) for a in found.attachments()]


class Outcomes:
    """Applies callbacks and, past the wait, read-backs to one application's records."""

    def __init__(
        self,
        client: OnderwijsregioClient,
        *,
        confirm_timeout: float,
        max_sends: int,
        reruns: bool,
    ) -> None:
        self.client = client
        self.confirm_timeout = confirm_timeout
        self.max_sends = max_sends
        self.reruns = reruns

    async def settle(
        self,
        candidate: AtsCandidate,
        files: Sequence[AtsFile],
        cand: CandidateRecord,
        records: dict[str, UploadRecord],
        callbacks: Sequence[CallbackResult],
        claimed: Claims,
        read_all: bool = False,
    ) -> None:
        """Update `cand` and `records` in place; new evidence is added to `claimed`."""
        by_key = {c.idempotency_key: c for c in callbacks}  # a later callback wins
        created = by_key.get(cand.idempotency_key or "")
        if cand.state == "pending_create" and created is not None:
            if created.succeeded and created.candidate_ids:
                cand.state, cand.ats_id, cand.error = "exists", created.candidate_ids[0], None
            elif not created.succeeded:
                cand.state, cand.error = "failed", created.error or "create failed"
        by_callback: dict[str, CallbackResult] = {}
        for attachment_id, record in records.items():
            outcome = by_key.get(record.idempotency_key or "")
            if record.state != "accepted" or outcome is None:
                continue
            if outcome.succeeded:
                record.confirmed(None)
                by_callback[attachment_id] = outcome
            else:
                record.send_failed(outcome.error or "the mutation failed", self.max_sends)
        now = datetime.now(UTC)
        accepted = [a for a, r in records.items() if r.state == "accepted"]
        due = [a for a in accepted if records[a].waited(now, self.confirm_timeout)]
        read = accepted if read_all else due  # read back; only `due` ones are sent again
        if cand.state == "pending_create" and read and candidate.email:
            found = await self.client.find_by_email(candidate.email)
            if found is not None:
                cand.state, cand.ats_id, cand.error = "exists", found.id, None
        if cand.state != "exists":
            for attachment_id in due:  # the create is nowhere to be seen
                self._not_applied(records[attachment_id])
            # The records of this application's create (another application of the same person
            # holds none: its files wait for the id).
            ours = [r for r in records.values() if r.idempotency_key == cand.idempotency_key]
            if ours and due and all(r.state == "failed" for r in ours):
                cand.state, cand.error = "failed", "the create was never applied"
            return
        if not read and not by_callback:
            return
        seen = seen_on(await self.client.get(cand.ats_id or ""))
        claimed.update(claims_of(records.values()))
        by_id = {f.attachment_id: f for f in files}
        for attachment_id, outcome in by_callback.items():  # learn our file's id in the ATS
            file = by_id.get(attachment_id)
            among = outcome.attachment_ids or None
            if file is not None:
                claim(file, records[attachment_id], seen, claimed, need_size=True, among=among)
        for attachment_id in read:
            file = by_id.get(attachment_id)
            record = records[attachment_id]
            found = file is not None and claim(file, record, seen, claimed, need_size=True)
            if not found and attachment_id in due:
                self._not_applied(record)

    def _not_applied(self, record: UploadRecord) -> None:
        replay = self.reruns or not record.replayed
        reason = (
            f"accepted, but no outcome came and the file was not on the candidate "
            f"{self.confirm_timeout:.0f} s after send {record.attempts}"
        )
        if not replay:
            reason += (
                "; not sent under a fresh key, which could store it twice "
                "(SEEK_SYNC_ONDERWIJSREGIO_FAILED_KEY_RERUNS is false)"
            )
        elif record.attempts >= self.max_sends:
            reason += f"; {record.attempts} sends spent (SEEK_SYNC_ATS_MAX_SENDS)"
        record.not_applied(reason, self.max_sends, replay=replay)
