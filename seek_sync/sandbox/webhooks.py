"""Signed webhook delivery, as SEEK does it for a signed subscription.

Each POST carries `{events, subscriptionId, url, expireDateTime}` with at most 10 events, the header
`Seek-Signature` (lowercase hex HMAC-SHA512 of the raw body) and an `X-Request-Id`. Non-2xx answers
are retried. On demand the sandbox duplicates and reorders deliveries to exercise idempotency.

Receiver replicas: a SEEK subscription has exactly one `url`; replicas sit behind a load balancer
at that URL. With `replicas` the sender plays that balancer: batch i goes to replica i mod n (the
body's `url` stays the subscription's), and a `duplicate_share` of batches is delivered a second
time, at the same moment, to the next replica: SEEK's delivery is at least once (a retry after a
timeout, a replay), so the same event may reach two replicas concurrently.
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
from typing import Self

import aiohttp
from pydantic import BaseModel, Field, PrivateAttr, model_validator

from seek_sync.sandbox.config import SandboxConfig
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
    duplicated_batches: int = 0  # batches also sent a second time (to the next replica)
    duplicated_events: int = 0
    delivered_by_url: dict[str, int] = field(default_factory=dict)  # 2xx POSTs per target URL

    def add(self, other: DeliveryReport) -> None:
        """Fold another run's counts into this one (the sandbox's running totals)."""
        self.batches += other.batches
        self.attempts += other.attempts
        self.statuses += other.statuses
        self.failed_batches += other.failed_batches
        self.duplicated_batches += other.duplicated_batches
        self.duplicated_events += other.duplicated_events
        for url, count in other.delivered_by_url.items():
            self.delivered_by_url[url] = self.delivered_by_url.get(url, 0) + count


@dataclass
class WebhookSender:
    """Delivers events to one subscription URL (or round-robin to the replicas behind it)."""

    url: str
    secret: str
    subscription_id: str = "seekAnzPublicTest:webhookSubscription:events:SandboxSubscription01"
    max_attempts: int = 5
    backoff_seconds: float = 0.1
    timeout_seconds: float = 10.0
    seed: int = 0
    replicas: list[str] = field(default_factory=list)  # empty: every POST goes to `url`
    duplicate_share: float = 0.0  # of batches delivered twice (0 to 1)
    first: int = 0  # the balancer's position: batch i goes to replica (first + i) mod n

    @property
    def targets(self) -> list[str]:
        return self.replicas or [self.url]

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
        if not 0.0 <= self.duplicate_share <= 1.0:
            raise ValueError("duplicate_share must be 0 to 1")
        report = DeliveryReport()
        timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
        targets, rng = self.targets, random.Random(f"{self.seed}:{self.first}")
        async with aiohttp.ClientSession(timeout=timeout) as session:
            batches = self.batches(events, batch_size, duplicate=duplicate, reorder=reorder)
            for index, batch in enumerate(batches, start=self.first):
                report.batches += 1
                body, target = self.body(batch), targets[index % len(targets)]
                if rng.random() < self.duplicate_share:
                    again = targets[(index + 1) % len(targets)]
                    report.duplicated_batches += 1
                    report.duplicated_events += len(batch)
                    status, _ = await asyncio.gather(
                        self._post(session, target, body, report),
                        self._post(session, again, body, report),
                    )
                else:
                    status = await self._post(session, target, body, report)
                report.statuses.append(status)
                if not 200 <= status < 300:
                    report.failed_batches += 1
        return report

    async def post(
        self, session: aiohttp.ClientSession, events: list[dict[str, str]], report: DeliveryReport
    ) -> int:
        """One batch of webhook items to the subscription URL (the balancer's next replica),
        retried like every delivery; its final status, counted in `report`."""
        report.batches += 1
        target = self.targets[(self.first + report.batches - 1) % len(self.targets)]
        status = await self._post(session, target, self.body(events), report)
        report.statuses.append(status)
        report.failed_batches += not 200 <= status < 300
        return status

    async def _post(
        self, session: aiohttp.ClientSession, url: str, body: bytes, report: DeliveryReport
    ) -> int:
        status = await self._attempts(session, url, body, report)
        if 200 <= status < 300:
            report.delivered_by_url[url] = report.delivered_by_url.get(url, 0) + 1
        return status

    async def _attempts(
        self, session: aiohttp.ClientSession, url: str, body: bytes, report: DeliveryReport
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
                async with session.post(url, data=body, headers=headers) as response:
                    status = response.status
                    await response.read()
            except (aiohttp.ClientError, TimeoutError):
                status = 504  # SEEK records a timeout as a synthetic 504
            if 200 <= status < 300 or attempt == self.max_attempts - 1:
                return status
            await asyncio.sleep(self.backoff_seconds * (2**attempt))
        return status


class WebhookRouting(BaseModel):
    """Where webhooks go: the subscription's URL and, optionally, the replicas behind it. The
    round-robin position carries over from one delivery to the next, as a balancer's does."""

    url: str | None = None
    replicas: list[str] = Field(default_factory=list)
    duplicate_share: float = Field(default=0.0, ge=0.0, le=1.0)
    _position: int = PrivateAttr(default=0)

    def advance(self, report: DeliveryReport) -> None:
        """Move the round-robin position past a finished delivery's batches."""
        self._position += report.batches

    @model_validator(mode="after")
    def _subscription_url(self) -> Self:
        if self.url is None and self.replicas:
            self.url = self.replicas[0]
        return self

    @classmethod
    def of(cls, config: SandboxConfig) -> WebhookRouting:
        return cls(
            url=config.webhook_url,
            replicas=config.webhook_urls,
            duplicate_share=config.webhook_duplicate_share,
        )

    def sender(self, secret: str, seed: int, url: str | None = None) -> WebhookSender | None:
        """A sender for this routing (`url`: one URL instead, still with the duplicate share)."""
        if url is not None:
            return WebhookSender(url, secret, seed=seed, duplicate_share=self.duplicate_share)
        if self.url is None:
            return None
        return WebhookSender(
            self.url,
            secret,
            seed=seed,
            replicas=list(self.replicas),
            duplicate_share=self.duplicate_share,
            first=self._position,
        )
