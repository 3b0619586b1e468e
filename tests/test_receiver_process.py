"""`seek-sync receiver serve` as its own process, in an environment holding only its own settings:
it starts without SEEK's partner credentials, refuses to start without its webhook secret, and a
100 MB body (declared, or chunked without a length) to any route is refused early with 413 while
its memory stays flat."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from seek_sync.process_stack import free_port, receiver_process_environment
from tests.backends import Backend
from tests.inboxes import inbox_of
from tests.test_receiver import SECRET, body_of, item, signed

SEEK_SYNC = str(Path(sys.executable).parent / "seek-sync")
HUGE = 100_000_000
PIECE = b"\0" * 65_536
MiB = 1024 * 1024


def receiver_env(home: Path, **extra: str) -> dict[str, str]:
    """A minimal environment: PATH, HOME and the receiver's own `SEEK_SYNC_*` variables only."""
    return {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(home),
        "SEEK_SYNC_HOME": str(home / "state"),
        "SEEK_SYNC_SEEK_WEBHOOK_SECRET": "webhook-secret-0123456789abcdef",
        "SEEK_SYNC_ONDERWIJSREGIO_CALLBACK_SECRET": "callback-secret-0123456789abcdef",
        "SEEK_SYNC_BLOB_SIGNING_SECRET": "blob-secret-0123456789abcdef",
        **extra,
    }


def hirer_map(folder: Path) -> Path:
    """A hirer map whose one entry names its own callback secret variable."""
    path = folder / "targets.yaml"
    path.write_text(
        'hirers:\n  "seekAnzPublicTest:organization:seek:AAAA1111":\n'
        "    target: onderwijsregio\n    api_key_env: SEEK_SYNC_OR_A_API_KEY\n"
        "    callback_secret_env: SEEK_SYNC_OR_A_CALLBACK_SECRET\n",
        encoding="utf-8",
    )
    return path


@dataclass
class Receiver:
    process: subprocess.Popen[bytes]
    port: int

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)


@contextmanager
def serving(folder: Path, env: dict[str, str]) -> Iterator[Receiver]:
    """`seek-sync receiver serve` on a free port with `env`, once it answers `/healthz`."""
    port = free_port()
    with (folder / "receiver.log").open("wb") as log:
        process = subprocess.Popen(
            [SEEK_SYNC, "receiver", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (folder / "receiver.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the receiver did not answer /healthz"
            time.sleep(0.05)
        yield Receiver(process, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    env = receiver_env(tmp_path)
    assert not [k for k in env if k.startswith(("SEEK_SYNC_SEEK_CLIENT", "SEEK_SYNC_KOMBO"))]
    with serving(tmp_path, env) as started:
        yield started


def test_a_webhook_lands_in_the_backends_inbox(tmp_path: Path, backend: Backend) -> None:
    """The receiver process on either backend: a signed delivery is stored once, where the
    settings say (SEEK_SYNC_DATABASE_URL: the PostgreSQL inbox), and a replay adds nothing."""
    env = receiver_env(tmp_path, **backend.env) | {"SEEK_SYNC_SEEK_WEBHOOK_SECRET": SECRET}
    body = body_of(item(1), item(2))
    with serving(tmp_path, env) as started:
        url = f"http://127.0.0.1:{started.port}/webhooks/seek"
        for _ in range(2):
            assert httpx.post(url, content=body, headers=signed(body)).status_code == 204
    stored = inbox_of(backend).events_after(0)
    assert sorted(e.event_id for e in stored) == sorted(e["id"] for e in json.loads(body)["events"])


def send_huge(port: int, method: str, path: str, *, chunked: bool) -> tuple[int, int]:
    """Send a 100 MB body (with a Content-Length, or chunked without one) until the server answers
    or closes; returns the answer's status and how many body bytes went out."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUGE}"
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{framing}\r\n\r\n"
    answer = bytearray()
    answered = threading.Event()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:

        def read() -> None:
            try:
                while b"\r\n\r\n" not in answer and (data := sock.recv(65_536)):
                    answer.extend(data)
            except OSError:
                pass
            finally:
                answered.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        sock.sendall(head.encode())
        sent = 0
        try:
            while sent < HUGE and not answered.is_set():
                sock.sendall(b"%x\r\n%s\r\n" % (len(PIECE), PIECE) if chunked else PIECE)
                sent += len(PIECE)
            if chunked and not answered.is_set():
                sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server closed the connection rather than read the rest
            pass
        reader.join(timeout=30)
    assert answer.startswith(b"HTTP/1.1 "), bytes(answer[:200])
    return int(answer.split(b" ", 2)[1]), sent


ROUTES = [
    ("POST", "/webhooks/seek"),
    ("POST", "/callbacks/onderwijsregio"),
    ("POST", "/callbacks/onderwijsregio?hirer=seekAnzPublicTest:organization:seek:AAAA1111"),
    ("GET", "/blobs/seekAnzPublicTest/x?expires=1&type=text/plain&signature=00"),
]


def test_100_mb_bodies_are_refused_early_and_memory_stays_flat(receiver: Receiver) -> None:
    send_huge(receiver.port, "POST", "/webhooks/seek", chunked=True)  # warm every code path
    before = receiver.rss()
    for method, path in ROUTES:
        for chunked in (False, True):
            status, sent = send_huge(receiver.port, method, path, chunked=chunked)
            assert status == 413, (method, path, chunked)
            assert sent < HUGE // 4, (method, path, chunked)  # the server stopped reading
    grown = receiver.rss() - before
    print(f"\nreceiver RSS grew by {grown / MiB:.2f} MiB over {2 * len(ROUTES)} 100 MB requests")
    assert grown < 10 * MiB, f"RSS grew by {grown / MiB:.1f} MiB"
    assert receiver.process.poll() is None
    assert httpx.get(f"http://127.0.0.1:{receiver.port}/healthz").json()["inbox"]["events"] == 0


def test_unsigned_small_requests_are_refused_without_a_partner_credential(
    receiver: Receiver,
) -> None:
    base = f"http://127.0.0.1:{receiver.port}"
    assert httpx.post(f"{base}/webhooks/seek", content=b"{}").status_code == 401
    assert httpx.post(f"{base}/callbacks/onderwijsregio", content=b"{}").status_code == 401
    assert httpx.get(f"{base}{ROUTES[-1][1]}").status_code == 403


def refused_start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`seek-sync receiver serve` with `env`, expected to exit at start (60 s at most)."""
    return subprocess.run(
        [SEEK_SYNC, "receiver", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_receiver_refuses_to_start_without_its_webhook_secret(tmp_path: Path) -> None:
    env = receiver_env(tmp_path)
    del env["SEEK_SYNC_SEEK_WEBHOOK_SECRET"]
    result = refused_start(env)
    assert result.returncode != 0
    assert result.stderr.strip() == "seek-sync: setting SEEK_SYNC_SEEK_WEBHOOK_SECRET is missing"


def test_the_receiver_refuses_to_start_when_a_named_callback_secret_is_unset(
    tmp_path: Path,
) -> None:
    targets = hirer_map(tmp_path)
    env = receiver_env(tmp_path, SEEK_SYNC_HIRER_TARGETS_PATH=str(targets))
    result = refused_start(env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "seek-sync: environment variable SEEK_SYNC_OR_A_CALLBACK_SECRET is not set"
    ]


def test_the_receiver_process_environment_holds_only_receiver_settings(tmp_path: Path) -> None:
    targets = hirer_map(tmp_path)
    stack = {
        **receiver_env(tmp_path),
        "SEEK_SYNC_SEEK_CLIENT_ID": "client",
        "SEEK_SYNC_SEEK_CLIENT_SECRET": "partner-secret",
        "SEEK_SYNC_OR_A_API_KEY": "ats-key",
        "SEEK_SYNC_OR_A_CALLBACK_SECRET": "region-a-callback-secret",
        "SEEK_SYNC_HIRER_TARGETS_PATH": str(targets),
        "SEEK_SYNC_WAREHOUSE_PATH": str(tmp_path / "w.duckdb"),
    }
    env = receiver_process_environment(stack)
    for name in (
        "SEEK_SYNC_HOME",
        "SEEK_SYNC_SEEK_WEBHOOK_SECRET",
        "SEEK_SYNC_ONDERWIJSREGIO_CALLBACK_SECRET",
        "SEEK_SYNC_BLOB_SIGNING_SECRET",
        "SEEK_SYNC_HIRER_TARGETS_PATH",
        "SEEK_SYNC_OR_A_CALLBACK_SECRET",  # named by the hirer map's callback_secret_env
    ):
        assert env[name] == stack[name]
    for name in (
        "SEEK_SYNC_SEEK_CLIENT_ID",
        "SEEK_SYNC_SEEK_CLIENT_SECRET",
        "SEEK_SYNC_OR_A_API_KEY",
        "SEEK_SYNC_WAREHOUSE_PATH",
    ):
        assert name not in env
