"""Claims of ATS creates: one hirer per (tenant, person) at a time, whichever process asks, held
under digests only; with the claim switched off (the positive control) two hirers both may."""

from __future__ import annotations

import multiprocessing
import random
import time
import traceback
from multiprocessing.synchronize import Barrier as BarrierType
from typing import Any

import pytest

from seek_sync.runstate.create_claims import CreateClaims
from seek_sync.runstate.inbox import Inbox
from seek_sync.testhooks import NO_CREATE_CLAIMS_ENV
from tests.backends import Backend
from tests.inboxes import inbox_of

TENANT = "onderwijsregio"
H = [f"seekAnzPublicTest:organization:seek:H{n:03d}" for n in range(40)]


def test_one_hirer_holds_a_persons_create_until_it_settles(backend: Backend) -> None:
    inbox = inbox_of(backend)
    claims = CreateClaims(inbox, ttl_seconds=0.5)
    email = "Ana.Lima@mail.example.net"
    assert claims.take(TENANT, email, H[0]) is True
    assert claims.take(TENANT, email.lower(), H[1]) is False  # the same person, another hirer
    assert claims.take("kombo", email, H[1]) is True  # another tenant is another candidate
    assert claims.take(TENANT, email, H[0]) is True  # its own create carries on
    claims.release([(TENANT, email, H[1])])  # not H1's to give back
    assert claims.take(TENANT, email, H[1]) is False
    claims.release([(TENANT, email, H[0])])
    assert claims.take(TENANT, email, H[1]) is True
    time.sleep(0.6)  # a claim long past its create is free again
    assert claims.take(TENANT, email, H[2]) is True
    rows = inbox.read("SELECT * FROM create_claims")
    assert rows and all("lima" not in str(list(r)).lower() for r in rows)  # digests only
    held = claims.held_by([H[2], H[3]])
    assert claims.holds(held, TENANT, email, H[2]) and not claims.holds(held, TENANT, email, H[3])
    assert claims.held_by([H[3]]) == set()


def test_the_positive_control_switches_the_claim_off(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NO_CREATE_CLAIMS_ENV, "1")
    claims = CreateClaims(inbox_of(backend))
    assert claims.take(TENANT, "x@example.net", H[0]) and claims.take(TENANT, "x@example.net", H[1])


# --- four processes, forty hirers of one tenant, people who applied to several --------------

PEOPLE = [f"person{n}@mail.example.net" for n in range(30)]


def _applications(seed: int) -> list[tuple[str, str]]:
    """Process `seed`'s ten hirers, each with the people who applied to it (most to several)."""
    rng = random.Random(99)
    applied = {h: rng.sample(PEOPLE, 12) for h in H}
    mine = [(h, p) for h in H[seed * 10 : seed * 10 + 10] for p in applied[h]]
    random.Random(seed).shuffle(mine)
    return mine


def _claimer(inbox: Inbox, seed: int, out: Any, step: BarrierType) -> None:
    """Take each application's claim in turn, in step with the other three processes: every
    process makes its n-th take before any makes its (n+1)-th, so they compete whatever the load
    (left to the scheduler, the first process to wake took every person once, in CI)."""
    try:
        claims = CreateClaims(inbox)
        won = []
        for hirer, person in _applications(seed):
            step.wait(60)
            if claims.take(TENANT, person, hirer):
                won.append((hirer, person))
        out.put((seed, won))
    except BaseException:
        out.put((seed, traceback.format_exc()))


def test_four_processes_create_each_person_once(backend: Backend) -> None:
    inbox = inbox_of(backend)
    ctx = multiprocessing.get_context("spawn")
    out, step = ctx.Queue(), ctx.Barrier(4)
    processes = [ctx.Process(target=_claimer, args=(inbox, s, out, step)) for s in range(4)]
    for process in processes:
        process.start()
    try:
        results = dict(out.get(timeout=120) for _ in processes)
    finally:
        for process in processes:
            process.join(timeout=30)
    assert all(isinstance(r, list) for r in results.values()), results
    creators: dict[str, set[str]] = {}
    for won in results.values():
        for hirer, person in won:
            creators.setdefault(person, set()).add(hirer)
    applied_to = {p for s in range(4) for _, p in _applications(s)}
    assert set(creators) == applied_to  # every person has a creator
    assert all(len(h) == 1 for h in creators.values()), creators  # and only one
    by_process = {s: len({p for _, p in won}) for s, won in results.items()}
    assert all(by_process.values()), by_process  # each created some people
    refused = sum(len(_applications(s)) for s in range(4)) - sum(map(len, results.values()))
    assert refused > 0  # and was refused others: the claims were contested
