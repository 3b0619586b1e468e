"""Helpers for the Onderwijsregio fake's tests: a running sandbox with an API client, and a small
HTTP endpoint in the test that receives callbacks and serves files for URL attachments."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.onderwijsregio import OnderwijsregioFake
from seek_sync.sandbox.server import SandboxServer

PDF = b"%PDF-1.4\n% test file\n"


def data_uri(data: bytes = PDF, mime: str = "application/pdf") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def item(name: str = "cv.pdf", data: bytes = PDF, mime: str = "application/pdf") -> dict[str, str]:
    return {"filename": name, "data": data_uri(data, mime)}


@dataclass
class Api:
    """A running sandbox, its Onderwijsregio fake and an authenticated client at `/api/v2`."""

    sandbox: SandboxServer
    fake: OnderwijsregioFake
    http: httpx.Client
    url: str
    info: dict[str, Any]

    def create(self, *people: dict[str, Any], **headers: str) -> httpx.Response:
        return self.http.post("/candidates", json=list(people), headers=headers)

    def created(self, person: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create one candidate, wait for the engine, return it as GET shows it."""
        person = person or {"firstName": "Zoë", "email": "zoe@example.com"}
        assert self.create(person).status_code == 202
        self.fake.wait_idle()
        found = self.http.get("/candidates/find", params={"email": person["email"]})
        assert found.status_code == 200, found.text
        return found.json()["data"]


@contextmanager
def running_api(config: SandboxConfig | None = None) -> Iterator[Api]:
    with SandboxServer(config or SandboxConfig(applications=2)) as sandbox:
        info = sandbox.info()
        fake = sandbox.state.fakes["onderwijsregio"]
        assert isinstance(fake, OnderwijsregioFake)
        headers = {"x-api-key": info["onderwijsregio_api_key"]}
        base = info["onderwijsregio_url"]
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            yield Api(sandbox, fake, http, base, info)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Endpoint:
    """Callbacks land in `received`; `files[name] = (content_type, bytes, send_length)`."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    attempts: list[Received] = field(default_factory=list)  # every POST, answered 500 or not
    files: dict[str, tuple[str, bytes, bool]] = field(default_factory=dict)
    fail_next: int = 0  # answer the next N callbacks with 500

    def wait(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} of {count} callbacks arrived")
            time.sleep(0.01)
        return self.received


@contextmanager
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.attempts.append(Received(self.path, headers, body, time.time()))
            if state.fail_next > 0:
                state.fail_next -= 1
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            state.received.append(Received(self.path, headers, body, time.time()))
            self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:
            found = state.files.get(self.path.rsplit("/", 1)[-1])
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content_type, data, send_length = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            if send_length:
                self.send_header("Content-Length", str(len(data)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            with suppress(ConnectionError):  # the engine stops reading a file over its limit
                self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
