"""`/_sandbox/ats/ledger` and `/_sandbox/ats/idle`: what the ATS fakes hold, for exactly-once tests.

The ledger lists every candidate or application and every stored file of the Onderwijsregio and
Kombo fakes, with a `duplicates` summary per fake, so a test that runs the sandbox as another
process can count over HTTP that each applicant and file arrived once. Kombo's own seeded
applications (and their files) are listed with `seeded: true`. Each file carries the fake's own
`accepted_at` (epoch seconds: the moment the fake held it; for Onderwijsregio, when its mutation
applied, with `requested_at` the 202 before it), from which `seek-sync bench --trickle` times
how long an application took to reach the ATS.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any, TypeVar, cast

from aiohttp import web
from pydantic import BaseModel

from seek_sync.sandbox.kombo import KomboFake
from seek_sync.sandbox.onderwijsregio import OnderwijsregioFake
from seek_sync.sandbox.onderwijsregio_engine import Store
from seek_sync.sandbox.onderwijsregio_schema import ATTACHMENT_FIELDS
from seek_sync.sandbox.state import STATE, SandboxState


class FileDuplicate(BaseModel):
    """The same content (SHA-256) stored more than once on one candidate or application."""

    owner: str
    sha256: str
    ids: list[str]


class OnderwijsregioCandidate(BaseModel):
    id: str
    email: str | None
    sandbox: bool  # which data store: production (`/api/v2`) or sandbox


class OnderwijsregioFile(BaseModel):
    id: str
    owner: str  # the candidate id
    field: str  # curriculumVitae or otherAttachments
    filename: str
    size: int
    sha256: str
    sandbox: bool
    requested_at: float | None = None  # epoch seconds: the fake answered 202 to its mutation
    accepted_at: float | None = None  # epoch seconds: its mutation applied, the fake holds it


class EmailDuplicate(BaseModel):
    """More than one candidate in one store with this (case-folded) email."""

    email: str
    sandbox: bool
    ids: list[str]


class OnderwijsregioDuplicates(BaseModel):
    emails: list[EmailDuplicate]
    files: list[FileDuplicate]


class OnderwijsregioLedger(BaseModel):
    candidates: list[OnderwijsregioCandidate]
    files: list[OnderwijsregioFile]
    duplicates: OnderwijsregioDuplicates


class KomboApplication(BaseModel):
    id: str
    candidate_id: str
    job_id: str
    email: str
    seeded: bool  # created by the fake at start, not by a client


class KomboFile(BaseModel):
    id: str
    owner: str  # the application id
    filename: str
    size: int
    sha256: str
    seeded: bool
    accepted_at: float | None = None  # epoch seconds: the fake stored it (Kombo writes at once)


class ApplicationDuplicate(BaseModel):
    """More than one application for the same job and (case-folded) email."""

    job_id: str
    email: str
    ids: list[str]


class KomboDuplicates(BaseModel):
    applications: list[ApplicationDuplicate]
    files: list[FileDuplicate]


class KomboLedger(BaseModel):
    applications: list[KomboApplication]
    files: list[KomboFile]
    duplicates: KomboDuplicates


class Ledger(BaseModel):
    onderwijsregio: OnderwijsregioLedger
    kombo: KomboLedger


K = TypeVar("K", bound=Hashable)


def _repeated(pairs: Iterable[tuple[K, str]]) -> list[tuple[K, list[str]]]:
    """Keys that occur with more than one id, in first-seen order."""
    groups: dict[K, list[str]] = defaultdict(list)
    for key, item_id in pairs:
        groups[key].append(item_id)
    return [(key, ids) for key, ids in groups.items() if len(ids) > 1]


def _file_duplicates(files: Iterable[OnderwijsregioFile | KomboFile]) -> list[FileDuplicate]:
    pairs = (((f.owner, f.sha256), f.id) for f in files)
    return [FileDuplicate(owner=o, sha256=s, ids=ids) for (o, s), ids in _repeated(pairs)]


def _fold(email: str | None) -> str:
    return (email or "").strip().casefold()


def _onderwijsregio_files(store: Store, record: dict[str, Any]) -> list[OnderwijsregioFile]:
    """The files on one candidate, field by field, as stored."""
    return [
        OnderwijsregioFile(
            id=f.id, owner=record["id"], field=name, filename=f.filename, size=f.size,
            sha256=f.sha256, sandbox=store.sandbox, requested_at=f.requested_at,
            accepted_at=f.stored_at,
        )
        for name in ATTACHMENT_FIELDS
        for f in (store.files.get(i) for i in record[name])
        if f is not None
    ]  # fmt: skip


def onderwijsregio_ledger(fake: OnderwijsregioFake) -> OnderwijsregioLedger:
    candidates: list[OnderwijsregioCandidate] = []
    files: list[OnderwijsregioFile] = []
    for store in fake.engine.stores.values():
        for record in list(store.candidates.values()):
            email = record.get("email")
            shown = email if isinstance(email, str) else None
            candidates.append(
                OnderwijsregioCandidate(id=record["id"], email=shown, sandbox=store.sandbox)
            )
            files += _onderwijsregio_files(store, record)
    emails = (((_fold(c.email), c.sandbox), c.id) for c in candidates if _fold(c.email))
    return OnderwijsregioLedger(
        candidates=candidates,
        files=files,
        duplicates=OnderwijsregioDuplicates(
            emails=[
                EmailDuplicate(email=e, sandbox=s, ids=ids) for (e, s), ids in _repeated(emails)
            ],
            files=_file_duplicates(files),
        ),
    )


def kombo_ledger(fake: KomboFake) -> KomboLedger:
    store, seeded = fake.store, fake.seeded_application_ids
    with store.lock:
        applications = [
            KomboApplication(
                id=a.id,
                candidate_id=a.candidate_id,
                job_id=a.job_id,
                email=store.candidates[a.candidate_id].email,
                seeded=a.id in seeded,
            )
            for a in store.applications.values()
        ]
        files = [
            KomboFile(
                id=f.id, owner=f.application_id, filename=f.name, size=f.size, sha256=f.sha256,
                seeded=f.application_id in seeded or f.via == "seed",
                accepted_at=f.created_at.timestamp(),
            )
            for stored in store.attachments.values()
            for f in stored
        ]  # fmt: skip
    pairs = (((a.job_id, _fold(a.email)), a.id) for a in applications)
    return KomboLedger(
        applications=applications,
        files=files,
        duplicates=KomboDuplicates(
            applications=[
                ApplicationDuplicate(job_id=j, email=e, ids=ids) for (j, e), ids in _repeated(pairs)
            ],
            files=_file_duplicates(files),
        ),
    )


def ledger(state: SandboxState) -> Ledger:
    return Ledger(
        onderwijsregio=onderwijsregio_ledger(
            cast(OnderwijsregioFake, state.fakes["onderwijsregio"])
        ),
        kombo=kombo_ledger(cast(KomboFake, state.fakes["kombo"])),
    )


def idle(state: SandboxState) -> bool:
    """No Onderwijsregio mutation or callback in flight (Kombo answers synchronously)."""
    return cast(OnderwijsregioFake, state.fakes["onderwijsregio"]).engine.idle()


async def get_ledger(request: web.Request) -> web.Response:
    return web.json_response(ledger(request.app[STATE]).model_dump(mode="json"))


async def get_idle(request: web.Request) -> web.Response:
    return web.json_response({"idle": idle(request.app[STATE])})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_sandbox/ats/ledger", get_ledger, name="admin.ats.ledger")
    app.router.add_get("/_sandbox/ats/idle", get_idle, name="admin.ats.idle")
