"""Leases: one live holder per hirer, dead holders and lapsed reservations give hirers back."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from seek_sync.backend import open_inbox
from seek_sync.runstate.leases import Leases, leases_for
from seek_sync.runstate.processes import Holder
from seek_sync.settings import load_settings
from tests.backends import Backend
from tests.inboxes import inbox_of


def dead_holder() -> Holder:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    holder = Holder(process.pid, time.time(), Holder.me().host)
    process.wait()
    return holder


def test_a_live_holder_keeps_its_hirers(backend: Backend) -> None:
    leases = Leases(inbox_of(backend))
    me = Holder.me()
    assert leases.claim(["h1", "h2"], "run-a", me) == ["h1", "h2"]
    assert leases.claim(["h2", "h3"], "run-b", me) == ["h3"]  # h2 is held by a live run
    assert set(leases.live()) == {"h1", "h2", "h3"}
    leases.release("run-a")
    assert leases.claim(["h1", "h2"], "run-b", me) == ["h1", "h2"]


def test_a_dead_holders_hirers_are_free_again(backend: Backend) -> None:
    leases = Leases(inbox_of(backend))
    assert leases.claim(["h1"], "run-a", dead_holder()) == ["h1"]
    assert leases.live() == {}
    assert leases.claim(["h1"], "run-b", Holder.me()) == ["h1"]


def test_a_pid_reused_by_another_process_is_not_the_holder(tmp_path: Path) -> None:
    me = Holder.me()
    impostor = Holder(me.pid, me.started - 3600, me.host)  # same pid, another start time
    assert impostor.alive() is False and me.alive() is True


def test_a_holder_on_another_host_lives_by_its_heartbeat(backend: Backend) -> None:
    leases = Leases(inbox_of(backend), stale_after_seconds=0.2)
    remote = Holder(1, 0.0, "another-host")
    assert remote.alive() is None
    assert leases.claim(["h1"], "run-a", remote) == ["h1"]
    assert leases.claim(["h1"], "run-b", Holder.me()) == []  # fresh heartbeat
    time.sleep(0.3)
    assert leases.claim(["h1"], "run-b", Holder.me()) == ["h1"]  # stale: taken over


def test_a_reservation_is_claimed_by_its_run_and_lapses_if_it_never_starts(
    backend: Backend,
) -> None:
    leases = Leases(inbox_of(backend), reservation_seconds=0.2)
    me = Holder.me()
    assert leases.reserve(["h1", "h2"], "sync|1|0", me) == ["h1", "h2"]
    assert leases.reserve(["h2"], "sync|2|0", me) == []  # reserved for the first tick's run
    assert leases.claim(["h1"], "run-x", me, reserved_as="sync|1|0") == ["h1"]
    time.sleep(0.3)
    assert leases.claim(["h2"], "run-y", me) == ["h2"]  # its run never came
    assert leases.claim(["h1"], "run-y", me) == []  # but a claimed lease does not lapse


def test_a_finished_run_that_lives_on_gives_its_hirers_up(backend: Backend) -> None:
    leases = Leases(inbox_of(backend))
    me = Holder.me()
    leases.claim(["h1"], "run-a", me)
    assert leases.claim(["h1"], "run-b", me, ended=lambda run: run == "run-b") == []
    assert leases.claim(["h1"], "run-b", me, ended=lambda run: run == "run-a") == ["h1"]


def test_run_owners_tell_a_dead_run_from_a_live_one(backend: Backend) -> None:
    leases = Leases(inbox_of(backend))
    leases.own_run("alive", Holder.me())
    leases.own_run("dead", dead_holder())
    assert leases.run_owner_alive("alive") is True
    assert leases.run_owner_alive("dead") is False
    assert leases.run_owner_alive("unknown") is None
    leases.forget_run("dead")
    assert set(leases.owners()) == {"alive"}


def test_a_run_step_owns_its_run_and_claims_its_hirers_in_one_call(backend: Backend) -> None:
    """`claim_run`, the one way asset steps and batched runs take hirers: the run's owner row
    (so a tick can tell when it died), then the claim, reservation and ended runs included."""
    leases = Leases(inbox_of(backend))
    me = Holder.me()
    leases.reserve(["h1"], "sync|1|0", me)
    leases.claim(["h2"], "run-old", me)
    ended = {"run-old"}.__contains__
    assert leases.claim_run(["h1", "h2", "h3"], "run-a", ended=ended) == ["h2", "h3"]
    assert leases.claim_run(["h1"], "run-b", reserved_as="sync|1|0") == ["h1"]
    assert leases.run_owner_alive("run-a") is leases.run_owner_alive("run-b") is True
    assert {h: lease.owner for h, lease in leases.live().items()} == {
        "h1": "run-b",
        "h2": "run-a",
        "h3": "run-a",
    }


def test_leases_for_takes_its_limits_from_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        seek_client_id="x",
        seek_client_secret="y",
        home=tmp_path,
        lease_stale_seconds=7.0,
        lease_reservation_seconds=9.0,
    )
    leases = leases_for(settings, open_inbox(settings))
    assert (leases.stale_after_seconds, leases.reservation_seconds) == (7.0, 9.0)
