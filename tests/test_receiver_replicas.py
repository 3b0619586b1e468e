"""Two `seek-sync receiver serve` processes on one inbox, as replicas behind one public URL.

The sandbox delivers new applications' webhooks round-robin to both, half the batches a second
time at once to the other replica (SEEK delivers at least once), and the Onderwijsregio fake sends
mutation results to both (each mutation's `callbackUrl` names one replica, as a balancer picks).
Every event and every callback is then in the inbox exactly once: events are keyed by SEEK's event
id, callbacks by the Mutation Engine's nonce, unique in the database both replicas write.

Both backends: the server one (PostgreSQL, the replicas' real setting) and the embedded one, whose
SQLite file in WAL mode takes writers from several processes on one machine (each write a
`BEGIN IMMEDIATE` transaction that waits its turn), so two receivers on one host are safe too.
"""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path

import httpx

from seek_sync.process_stack import ProcessStack, process_stack
from tests.backends import Backend
from tests.inboxes import inbox_of

APPLICATIONS = 60  # in 12 deliveries of 5: 12 batches, round-robin
CALLBACKS = 8
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def deliver_webhooks(stack: ProcessStack) -> tuple[list[str], dict[str, object]]:
    """New applications pushed to both replicas, half the batches twice; the sandbox's totals."""
    replicas = [f"{url}/webhooks/seek" for url in stack.receiver_urls]
    stack.admin("PUT", "/_sandbox/webhooks", {"replicas": replicas, "duplicate_share": 0.5})
    events: list[str] = []
    for _ in range(APPLICATIONS // 5):
        events += stack.admin("POST", "/_sandbox/applications", {"count": 5})["events"]
    return events, stack.admin("GET", "/_sandbox/webhooks")["delivered"]


def send_mutations(stack: ProcessStack) -> tuple[list[str], str]:
    """Onderwijsregio upserts whose results go to each replica in turn; their keys and hirer."""
    hirer = next(h for h, kind in sorted(stack.targets.items()) if kind == "onderwijsregio")
    cv = {
        "filename": "cv.pdf",
        "data": "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
    }
    keys = [f"replica-test-{n}" for n in range(CALLBACKS)]
    headers = {"x-api-key": stack.info["onderwijsregio_api_key"]}
    for n, key in enumerate(keys):
        replica = stack.receiver_urls[n % len(stack.receiver_urls)]
        person = {
            "firstName": f"Replica{n}",
            "email": f"replica{n}@example.com",
            "phone": f"06123456{n:02d}",
            "curriculumVitae": [cv],
            "idempotencyKey": key,
            "callbackUrl": f"{replica}/callbacks/onderwijsregio?hirer={hirer}",
        }
        url = stack.info["onderwijsregio_url"] + "/candidates/upsert"
        assert httpx.post(url, json=person, headers=headers, timeout=30).status_code == 202
    return keys, hirer


def test_two_receivers_store_each_event_and_callback_once(backend: Backend, tmp_path: Path) -> None:
    options = ("--applications", "4", "--hirers", "4", "--no-edge-cases")
    home = tmp_path / "stack"
    with process_stack(home, *options, extra_env=backend.env, receivers=2) as stack:
        assert len(set(stack.receiver_urls)) == 2
        events, delivered = deliver_webhooks(stack)
        keys, hirer = send_mutations(stack)
        assert stack.wait_idle(60), "the Onderwijsregio fake did not finish"
        state = stack.admin("GET", "/_sandbox/onderwijsregio/state")

    # The sandbox delivered every batch, duplicated some, and reached both replicas.
    assert delivered["failed_batches"] == 0 and delivered["batches"] == APPLICATIONS // 5
    assert delivered["duplicated_batches"] > 0 and delivered["duplicated_events"] > 0
    by_url = delivered["delivered_by_url"]
    assert sorted(by_url) == sorted(f"{u}/webhooks/seek" for u in stack.receiver_urls)
    assert all(count > 0 for count in by_url.values())
    assert sum(by_url.values()) == delivered["batches"] + delivered["duplicated_batches"]
    assert state["callbacks_sent"] == CALLBACKS and state["callbacks_failed"] == 0
    assert sorted(state["callbacks_sent_by_host"]) == sorted(stack.receiver_urls)

    # Each event and each callback is in the one inbox exactly once; none lost.
    inbox = inbox_of(backend)
    stored = inbox.events_after(0)
    assert Counter(e.event_id for e in stored) == Counter(events)
    assert {e.source for e in stored} == {"webhook"}
    callbacks = inbox.callbacks_after(0, target="onderwijsregio")
    assert sorted(c.idempotency_key for c in callbacks) == sorted(keys)
    assert {c.hirer_id for c in callbacks} == {hirer}
