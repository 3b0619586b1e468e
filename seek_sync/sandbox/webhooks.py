"""Signed webhook delivery, as SEEK does it for a signed subscription.

Each POST carries `{events, subscriptionId, url, expireDateTime}` with at most 10 events, the header
`Seek-Signature` (lowercase hex HMAC-SHA512 of the raw body) and an `X-Request-Id`. Non-2xx answers
are retried. On demand the sandbox duplicates and reorders deliveries to exercise idempotency.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp

from seek_sync.sandbox.world import StreamEvent


def sign(secret: str, body: bytes) -> str:
    """SEEK's webhook signature: hex HMAC-SHA512 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def webhook_event(event: StreamEvent) -> dict[str, str]:
    """One event as a signed subscription delivers it (so with `hirerId`)."""
    item = {"id": event.id, "type": event.type_code, "createDateTime": _iso(event.create_date_time)}
    if event.profile_id:
        item["candidateApplicationProfileId"] = event.profile_id
    if event.candidate_id:
        item["candidateId"] = event.candidate_id
    item["hirerId"] = event.hirer_id
    return item


@dataclass
class DeliveryReport:
    """What happened to one delivery run: every POST and its final status."""

    batches: int = 0
    attempts: int = 0
    statuses: list[int] = field(default_factory=list)
    failed_batches: int = 0


@dataclass
class WebhookSender:
    """Delivers events to one subscription URL."""

    url: str
    secret: str
    subscription_id: str = "seekAnzPublicTest:webhookSubscription:events:SandboxSubscription01"
    max_attempts: int = 5
    backoff_seconds: float = 0.1
    timeout_seconds: float = 10.0
    seed: int = 0

    def batches(
        self, events: Sequence[StreamEvent], batch_size: int, *, duplicate: bool, reorder: bool
    ) -> list[list[dict[str, str]]]:
        items = [webhook_event(e) for e in events]
        rng = random.Random(self.seed)
        if duplicate:
            # Every event goes twice, and some batches overlap their neighbours.
            items = items + rng.sample(items, k=len(items))
        if reorder:
            rng.shuffle(items)
        return [items[i : i + batch_size] for i in range(0, len(items), batch_size)]

    def body(self, events: list[dict[str, str]]) -> bytes:
        payload = {
            "events": events,
            "subscriptionId": self.subscription_id,
            "url": self.url,
            "expireDateTime": _iso(datetime.now(UTC) + timedelta(days=7)),
        }
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()

    async def deliver(
        self,
        events: Sequence[StreamEvent],
        *,
        batch_size: int = 10,
        duplicate: bool = False,
        reorder: bool = False,
    ) -> DeliveryReport:
        if not 1 <= batch_size <= 10:
            raise ValueError("batch_size must be 1 to 10 (maxEventsPerAttempt)")
        report = DeliveryReport()
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for batch in self.batches(events, batch_size, duplicate=duplicate, reorder=reorder):
                report.batches += 1
                status = await self._post(session, self.body(batch), report)
                report.statuses.append(status)
                if not 200 <= status < 300:
                    report.failed_batches += 1
        return report

    async def _post(
        self, session: aiohttp.ClientSession, body: bytes, report: DeliveryReport
    ) -> int:
        status = 0
        for attempt in range(self.max_attempts):
            report.attempts += 1
            headers = {
                "Content-Type": "application/json",
                "Seek-Signature": sign(self.secret, body),
                "X-Request-Id": str(uuid.uuid4()),
                "User-Agent": "seek-sync-sandbox-webhooks/1.0",
            }
            try:
                async with session.post(self.url, data=body, headers=headers) as response:
                    status = response.status
                    await response.read()
            except (aiohttp.ClientError, TimeoutError):
                status = 504  # SEEK records a timeout as a synthetic 504
            if 200 <= status < 300 or attempt == self.max_attempts - 1:
                return status
            await asyncio.sleep(self.backoff_seconds * (2**attempt))
        return status
