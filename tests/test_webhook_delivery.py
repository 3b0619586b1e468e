"""The sandbox pushing real signed webhooks into a running receiver app, faults included."""

from __future__ import annotations

from pathlib import Path

from seek_sync.receiver.app import running_receiver
from seek_sync.runstate.inbox import Inbox
from seek_sync.sandbox.server import SandboxServer
from seek_sync.settings import load_receiver_settings


def test_duplicated_and_reordered_deliveries_store_each_event_once(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    secret = sandbox.info()["webhook_secret"]
    settings = load_receiver_settings(seek_webhook_secret=secret, home=tmp_path)
    inbox = Inbox(settings.inbox_path)
    events = [e for e in sandbox.state.world.events if e.profile_id][:30]
    with running_receiver(settings, inbox) as url:
        report = sandbox.deliver_webhooks(
            f"{url}/webhooks/seek", events, duplicate=True, reorder=True, batch_size=7
        )
        again = sandbox.deliver_webhooks(f"{url}/webhooks/seek", events[:10])
    assert report.failed_batches == 0 and again.failed_batches == 0
    stored = inbox.events_after(0)
    assert sorted(e.event_id for e in stored) == sorted(e.id for e in events)
    by_id = {e.id: e for e in events}
    for row in stored:
        assert row.source == "webhook"
        assert row.hirer_id == by_id[row.event_id].hirer_id
        assert row.profile_id == by_id[row.event_id].profile_id


def test_a_receiver_with_another_secret_stores_nothing(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    settings = load_receiver_settings(seek_webhook_secret="x" * 32, home=tmp_path)
    inbox = Inbox(settings.inbox_path)
    events = [e for e in sandbox.state.world.events if e.profile_id][:3]
    with running_receiver(settings, inbox) as url:
        report = sandbox.deliver_webhooks(f"{url}/webhooks/seek", events)
    assert report.statuses == [401]  # retried by the sender, refused every time
    assert inbox.counts()["events"] == 0
