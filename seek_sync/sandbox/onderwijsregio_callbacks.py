"""Signed result callbacks of the Onderwijsregio fake's Mutation Engine.

After a mutation completes, its result is POSTed as JSON to the mutation's callback URL with
`x-mutationengine-timestamp` (unix seconds), `x-mutationengine-nonce` (random hex) and
`x-mutationengine-signature: v2=<base64 HMAC-SHA256>` keyed with the callback secret. Non-2xx
answers and transport errors are retried `callback_attempts` times with exponential backoff, each
attempt with a fresh timestamp and nonce. Fault toggles: `lose_callbacks` (the next N are never
sent) and `late_callbacks` (seconds every callback waits first).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from seek_sync.sandbox.onderwijsregio_schema import OnderwijsregioConfig

if TYPE_CHECKING:
    from seek_sync.sandbox.onderwijsregio_engine import Mutation

TIMESTAMP_HEADER = "x-mutationengine-timestamp"
NONCE_HEADER = "x-mutationengine-nonce"
SIGNATURE_HEADER = "x-mutationengine-signature"


def callback_signing_string(path_and_query: str, body: bytes, timestamp: str, nonce: str) -> bytes:
    """ASSUMPTION (the layout is unconfirmed): `{timestamp}.{nonce}.{path?query}.` + raw body.

    `path_and_query` is the callback URL's path and query exactly as registered and sent on the
    wire (`/callbacks/onderwijsregio?hirer=h1`).
    """
    return f"{timestamp}.{nonce}.{path_and_query}.".encode() + body


def sign_callback(secret: str, path_and_query: str, body: bytes, timestamp: str, nonce: str) -> str:
    """The signature header's value: `v2=` + base64 HMAC-SHA256 of the signing string."""
    signed = callback_signing_string(path_and_query, body, timestamp, nonce)
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v2=" + base64.b64encode(digest).decode()


class CallbackSender:
    """Delivers results; counts what happened to each."""

    def __init__(self, config: OnderwijsregioConfig) -> None:
        self.config = config
        self.sent = self.lost = self.failed = 0
        self.outcomes: list[dict[str, Any]] = []  # per callback: key, url, attempts, outcome
        self.lose_callbacks = 0
        self.late_callbacks = 0.0
        self.pending = 0  # raised by the engine when it schedules a delivery

    def sent_by_host(self) -> dict[str, int]:
        """Callbacks delivered (2xx) per callback URL's scheme, host and port."""
        sent = [o["url"] for o in self.outcomes if o["outcome"] == "sent"]
        return dict(Counter(str(URL(url, encoded=True).origin()) for url in sent))

    async def deliver(self, session: aiohttp.ClientSession, mutation: Mutation) -> None:
        try:
            await self._send(session, mutation)
        finally:
            self.pending -= 1

    async def _send(self, session: aiohttp.ClientSession, mutation: Mutation) -> None:
        assert mutation.callback_url
        outcome: dict[str, Any] = {
            "idempotencyKey": mutation.key,
            "url": mutation.callback_url,
            "attempts": 0,
            "outcome": "pending",
        }
        self.outcomes.append(outcome)
        if self.lose_callbacks > 0:
            self.lose_callbacks -= 1
            self.lost += 1
            outcome["outcome"] = "lost"
            return
        if self.late_callbacks > 0:
            await asyncio.sleep(self.late_callbacks)
        body = json.dumps(mutation.result()).encode()
        url = URL(mutation.callback_url, encoded=True)  # sent and signed exactly as given
        timeout = aiohttp.ClientTimeout(total=self.config.callback_timeout_seconds)
        for attempt in range(self.config.callback_attempts):
            stamp, nonce = str(int(time.time())), secrets.token_hex(16)
            signature = sign_callback(
                self.config.callback_secret, url.raw_path_qs, body, stamp, nonce
            )
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: stamp,
                NONCE_HEADER: nonce,
                SIGNATURE_HEADER: signature,
            }
            outcome["attempts"] = attempt + 1
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.post(url, data=body, headers=headers, timeout=timeout) as answer:
                    outcome["status"] = answer.status
                    if answer.status < 300:
                        self.sent += 1
                        outcome["outcome"] = "sent"
                        return
            if attempt + 1 < self.config.callback_attempts:
                await asyncio.sleep(self.config.callback_backoff_seconds * 2**attempt)
        self.failed += 1
        outcome["outcome"] = "failed"
