"""The Onderwijsregio fake's Mutation Engine: one ordered queue per data store, idempotency keys,
files decoded or fetched when a mutation runs, and (`onderwijsregio_callbacks`) signed results.

A mutation is accepted (202) by `submit`, which stores and enqueues it before the handler
answers, so a lost response still leaves exactly one queued mutation. Each store's worker applies
its queue in order after `mutation_delay_seconds`; a mutation applies all of its changes or none.
Runs on the sandbox server's event loop (`start` on app start-up, `stop` on clean-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp

from seek_sync.sandbox.onderwijsregio_callbacks import CallbackSender
from seek_sync.sandbox.onderwijsregio_creates import CreateLog
from seek_sync.sandbox.onderwijsregio_files import (
    FileFetcher,
    MutationFailed,
    StoredFile,
    record_id,
)
from seek_sync.sandbox.onderwijsregio_schema import (
    ATTACHMENT_FIELDS,
    CANDIDATE_ID_PREFIX,
    OnderwijsregioConfig,
)
from seek_sync.sandbox.received import ReceivedFiles

log = logging.getLogger("seek_sync.sandbox.onderwijsregio")

Operation = Literal["create", "upsert", "attachments", "delete_attachments"]


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def fingerprint(operation: str, candidate_id: str | None, payload: Any) -> str:
    """What "the same payload" means for a reused key (control fields are not part of it)."""
    canonical = json.dumps(
        [operation, candidate_id, payload], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyConflict(Exception):
    """The key was used before with a different payload."""


class StillRunning(Exception):
    """The key's first mutation is still queued or running (raised only when configured to 409)."""


@dataclass
class Mutation:
    key: str
    fingerprint: str
    operation: Operation
    payload: Any
    candidate_id: str | None
    callback_url: str | None
    sandbox: bool
    status: Literal["queued", "running", "succeeded", "failed"] = "queued"
    candidate_ids: list[str] = field(default_factory=list)
    attachment_ids: list[str] = field(default_factory=list)
    error: str | None = None
    completed_at: str | None = None
    accepted_at: float = field(default_factory=time.time)  # epoch seconds: answered 202

    def result(self) -> dict[str, Any]:
        """The callback body."""
        return {
            "idempotencyKey": self.key,
            "status": self.status,
            "operation": self.operation,
            "candidateIds": self.candidate_ids,
            "attachmentIds": self.attachment_ids,
            "error": self.error,
            "completedAt": self.completed_at,
        }


@dataclass
class Store:
    """One data store (production or sandbox): candidates, files, mutations by key, its queue."""

    sandbox: bool
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    mutations: dict[str, Mutation] = field(default_factory=dict)
    queue: asyncio.Queue[Mutation] | None = None
    busy: int = 0  # mutations submitted and not yet finished


class MutationEngine:
    def __init__(self, config: OnderwijsregioConfig, received: ReceivedFiles | None = None) -> None:
        self.config = config
        self.received = received or ReceivedFiles()
        self.stores = {False: Store(sandbox=False), True: Store(sandbox=True)}
        self.mutations_applied = self.mutations_failed = self.mutations_replayed = 0
        self.uploads: list[StoredFile] = []  # every file ever stored (deleted ones too), in order
        self.fail_after_accept = 0  # fault toggle: the next N mutations fail after their 202
        # Unconfirmed behaviour, both modelled: does a replayed key of a failed mutation run it
        # again (True), or answer with its stored result (False, the default)? Either way a replay
        # of a finished mutation with a callback URL gets its result delivered again (unless
        # `replay_callbacks` is off).
        self.failed_key_reruns = False
        self.replay_callbacks = True  # fault toggle: False = a replay never sends a callback
        self.callbacks = CallbackSender(config)
        self.creates = CreateLog(config.record_callers)  # each create's span, for race tests
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        for store in self.stores.values():
            store.queue = asyncio.Queue()
            self._spawn(self._work(store))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def idle(self) -> bool:
        """No mutation queued or running and no callback waiting to be delivered."""
        return self.callbacks.pending == 0 and all(s.busy == 0 for s in self.stores.values())

    # --- accepting --------------------------------------------------------------------------------
    def submit(
        self,
        sandbox: bool,
        operation: Operation,
        payload: Any,
        *,
        key: str | None,
        callback_url: str | None,
        candidate_id: str | None = None,
    ) -> tuple[Mutation, bool]:
        """Store and enqueue a validated mutation; (mutation, True) when `key` is a replay."""
        store = self.stores[sandbox]
        digest = fingerprint(operation, candidate_id, payload)
        known = store.mutations.get(key) if key else None
        if known is not None:
            if known.fingerprint != digest:
                raise IdempotencyConflict(key)
            self.mutations_replayed += 1
            running = known.status in ("queued", "running")
            if running and self.config.inflight_replay_status == 409:
                raise StillRunning(key)
            known.callback_url = callback_url or known.callback_url
            if known.status == "failed" and self.failed_key_reruns:
                self._enqueue(store, known)
            elif not running and known.callback_url and self.replay_callbacks and self._session:
                self.callbacks.pending += 1
                self._spawn(self.callbacks.deliver(self._session, known))
            return known, True
        mutation = Mutation(
            key=key or str(uuid.uuid4()),
            fingerprint=digest,
            operation=operation,
            payload=payload,
            candidate_id=candidate_id,
            callback_url=callback_url,
            sandbox=sandbox,
        )
        store.mutations[mutation.key] = mutation
        self._enqueue(store, mutation)
        return mutation, False

    @staticmethod
    def _enqueue(store: Store, mutation: Mutation) -> None:
        if store.queue is None:
            raise RuntimeError("the mutation engine is not running")
        mutation.status, mutation.error, mutation.completed_at = "queued", None, None
        store.busy += 1
        store.queue.put_nowait(mutation)

    # --- applying -------------------------------------------------------------------------------
    async def _work(self, store: Store) -> None:
        assert store.queue is not None
        while True:
            mutation = await store.queue.get()
            try:
                await asyncio.sleep(self.config.mutation_delay_seconds)
                await self._run(store, mutation)
                self.creates.ran(mutation.key, mutation.status)
            except asyncio.CancelledError:
                store.busy -= 1
                raise
            if mutation.callback_url and self._session is not None:
                self.callbacks.pending += 1  # before `busy` drops, so idle() never blinks
                self._spawn(self.callbacks.deliver(self._session, mutation))
            store.busy -= 1

    async def _run(self, store: Store, mutation: Mutation) -> None:
        mutation.status = "running"
        try:
            if self.fail_after_accept > 0:
                self.fail_after_accept -= 1
                raise MutationFailed("the mutation failed after it was accepted (injected)")
            await self._apply(store, mutation)
            mutation.status = "succeeded"
            mutation.payload = None  # its files are stored as digests; a replay needs only those
            self.mutations_applied += 1
        except Exception as error:
            if not isinstance(error, MutationFailed):
                log.exception("onderwijsregio mutation %s crashed", mutation.key)
            mutation.status, mutation.error = "failed", str(error)
            mutation.candidate_ids, mutation.attachment_ids = [], []
            self.mutations_failed += 1
        mutation.completed_at = datetime.now(UTC).isoformat(timespec="milliseconds")

    def _fetcher(self, mutation: Mutation) -> FileFetcher:
        assert self._session is not None
        return FileFetcher(
            self.config, self._session, mutation.operation, mutation.sandbox, self.received
        )

    async def _apply(self, store: Store, mutation: Mutation) -> None:
        """Fetch and decode every file first, then change the store: all or nothing."""
        fetch = self._fetcher(mutation)
        payload, op = mutation.payload, mutation.operation
        if op == "create":
            bodies = [(None, body, f"[{n}].") for n, body in enumerate(payload)]
        elif op == "upsert":
            bodies = [(self._match(store, payload), payload, "")]
        elif op == "attachments":
            self._existing(store, mutation.candidate_id)
            bodies = [(mutation.candidate_id, payload, "")]
        else:
            self._delete(store, mutation)
            return
        files = [await fetch.all(body, where) for _, body, where in bodies]
        for (candidate_id, body, _), stored in zip(bodies, files, strict=True):
            person = {k: v for k, v in body.items() if k not in ATTACHMENT_FIELDS}
            if op == "attachments":
                person = {}
            if candidate_id is None:
                candidate_id = record_id(CANDIDATE_ID_PREFIX)
                store.candidates[candidate_id] = {
                    "id": candidate_id,
                    "createdTime": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    **{f: [] for f in ATTACHMENT_FIELDS},
                }
            record = store.candidates[candidate_id]
            record.update(person)  # upsert: PATCH semantics for the person's fields
            now = time.time()
            for file in stored:
                file.candidate_id = candidate_id
                file.requested_at, file.stored_at = mutation.accepted_at, now
                store.files[file.id] = file
                self.uploads.append(file)
                record[file.field].append(file.id)
                mutation.attachment_ids.append(file.id)
            mutation.candidate_ids.append(candidate_id)

    @staticmethod
    def _existing(store: Store, candidate_id: str | None) -> dict[str, Any]:
        if candidate_id is None or candidate_id not in store.candidates:
            raise MutationFailed(f"candidate {candidate_id} not found")
        return store.candidates[candidate_id]

    def _match(self, store: Store, body: dict[str, Any]) -> str | None:
        """Upsert: the candidate with this email, else the one with this phone number."""
        found = self.find(store.sandbox, email=body.get("email")) or self.find(
            store.sandbox, phone=body.get("phone")
        )
        return found["id"] if found else None

    def _delete(self, store: Store, mutation: Mutation) -> None:
        record = self._existing(store, mutation.candidate_id)
        ids = list(mutation.payload[self.config.delete_ids_field])
        owned = {i for f in ATTACHMENT_FIELDS for i in record[f]}
        missing = [i for i in ids if i not in owned]
        if missing:
            raise MutationFailed(f"attachment {missing[0]} not found on candidate {record['id']}")
        for name in ATTACHMENT_FIELDS:
            record[name] = [i for i in record[name] if i not in ids]
        for attachment_id in ids:
            store.files.pop(attachment_id, None)
        mutation.candidate_ids.append(record["id"])
        mutation.attachment_ids.extend(ids)

    # --- reading ----------------------------------------------------------------------------------
    def find(
        self, sandbox: bool, *, email: str | None = None, phone: str | None = None
    ) -> dict[str, Any] | None:
        """Email wins (case-insensitive); phone compares digits only."""
        candidates = self.stores[sandbox].candidates.values()
        if email:
            wanted = email.strip().casefold()
            return next(
                (c for c in candidates if str(c.get("email") or "").casefold() == wanted), None
            )
        digits = _digits(phone)
        if not digits:
            return None
        return next((c for c in candidates if _digits(c.get("phone")) == digits), None)
