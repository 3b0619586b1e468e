"""The proof of `seek-sync migrate`: a home made by today's code, settled against the sandbox, is
moved up (a `seek-sync migrate` process) into a private PostgreSQL database, a moto bucket and a
new Dagster instance on PostgreSQL; then `seek-sync sync` processes on the server backend, against
the same sandbox process, pick up two new applications and run to settled. Counted at the fakes
through the sandbox's admin API: every applicant and file at each ATS fake exactly once, and the
only writes after the move are the new applications' (nothing re-sent)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from seek_sync.process_stack import _wait_http, free_port, process_stack, start_receiver
from tests.backends import S3_ENV, make_bucket
from tests.dagster.crash_helpers import audit, leftovers, sync_until_settled, warehouse_of
from tests.migrate_helpers import home_counts, migrate_process, server_counts
from tests.services import database_url, private_database

WORLD = ("--applications", "8", "--hirers", "4", "--seed", "5", "--no-edge-cases")
CONFIRMED = "SELECT COUNT(*) FROM ats_uploads WHERE state = 'confirmed'"


def test_a_settled_home_moved_up_settles_on_the_server_with_nothing_sent_again(
    tmp_path: Path, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in S3_ENV.items():  # this process reads the bucket too (the leftovers)
        monkeypatch.setenv(name, value)
    with process_stack(tmp_path / "home", *WORLD) as stack, private_database() as database:
        sync_until_settled(stack)
        settled = audit(stack)
        assert settled.problems == [] and settled.counts["profiles"] == 8
        with warehouse_of(stack).session() as db:
            confirmed_home = db.scalar(CONFIRMED)
        with stack.instance() as old:
            partitions = set(old.get_dynamic_partitions("hirer"))
        url, bucket = database_url(database, "psycopg"), make_bucket(s3_endpoint)
        moved = migrate_process(stack.env, url, bucket, s3_endpoint, tmp_path / "dagster-server")
        server, instance, out = moved.server, moved.instance, moved.output
        assert server_counts(url) == home_counts(stack.home)  # counted apart from the command
        assert f"hirer partitions: {len(partitions)} added" in out

        # Every process now runs on the server backend: a receiver too (ATS callbacks).
        receiver = f"http://127.0.0.1:{free_port()}"
        env = stack.env | server | instance | {"SEEK_SYNC_RECEIVER_PUBLIC_URL": receiver}
        stack.children.append(start_receiver(tmp_path / "receiver-server", receiver, env))
        _wait_http(receiver + "/healthz")
        on_server = replace(stack, env=env)
        with on_server.instance() as new:
            assert set(new.get_dynamic_partitions("hirer")) == partitions  # the old instance's
        stack.admin("DELETE", "/_sandbox/requests")
        stack.admin("POST", "/_sandbox/applications", {"count": 2})
        sync_until_settled(on_server)
        final = audit(on_server)
        assert final.problems == [] and final.counts["profiles"] == 10
        with warehouse_of(on_server).session() as db:
            sent_since = db.scalar(CONFIRMED) - confirmed_home
        at_fakes = {k: final.counts[k] - settled.counts[k] for k in ("onderwijsregio", "kombo")}
        assert 0 < sent_since <= 10 and sum(at_fakes.values()) == sent_since
        counts = stack.admin("GET", "/_sandbox/requests")["counts"]
        writes = {k: v for k, v in counts.items() if "create" in k or "attachment" in k}
        assert counts["attachment"] == sent_since  # SEEK downloads: the new files only
        assert (
            writes.get("onderwijsregio.create", 0) + writes.get("kombo.create_application", 0) <= 2
        )
        assert leftovers(on_server) == []
        print(f"\n{out}\nafter the move: {at_fakes} new files at the fakes; requests {writes}")
