"""The attachment proxy for tests: in-process on a thread, or as its own `seek-sync proxy serve`
process; and tokens for a sandbox attachment."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import uvicorn

from seek_sync.local_stack import SEEK_FROM_INFO
from seek_sync.proxy.app import create_app
from seek_sync.proxy.process import proxy_environment as environment_of
from seek_sync.proxy.process import proxy_process as own_process
from seek_sync.proxy.settings import ProxySettings, load_proxy_settings
from seek_sync.proxy.tokens import ProxyClaims, expiry, proxy_url
from seek_sync.sandbox.server import SandboxServer
from seek_sync.seek.client import http_client

SECRET = "proxy-signing-secret-for-tests-0123456789"


def proxy_settings(info: dict[str, Any], **overrides: Any) -> ProxySettings:
    seek = {
        name: info[key] for name, key in SEEK_FROM_INFO.items() if name != "seek_webhook_secret"
    }
    return load_proxy_settings(**seek | {"proxy_signing_secret": SECRET} | overrides)


def proxy_values(info: dict[str, Any]) -> dict[str, str]:
    """The proxy's own settings for this sandbox: SEEK's credentials and URLs, the signing key."""
    seek = {f"SEEK_SYNC_{name.upper()}": info[key] for name, key in SEEK_FROM_INFO.items()}
    seek.pop("SEEK_SYNC_SEEK_WEBHOOK_SECRET")
    return seek | {"SEEK_SYNC_PROXY_SIGNING_SECRET": SECRET}


def proxy_environment(info: dict[str, Any]) -> dict[str, str]:
    """This process's environment without any SEEK_SYNC_ variable, plus the proxy's own."""
    return environment_of(proxy_values(info))


def claims_for(
    sandbox: SandboxServer,
    application_id: str,
    attachment_id: str,
    *,
    hirer_id: str | None = None,
    expires: int | None = None,
) -> ProxyClaims:
    application = sandbox.state.world.by_application_id[application_id]
    return ProxyClaims(
        hirer_id=hirer_id or application.hirer_id,
        profile_id=application.profile_id,
        attachment_id=attachment_id,
        url=f"{sandbox.base_url}/anzPublicTest/applications/"
        f"{application_id}/attachments/{attachment_id}",
        target="kombo",
        expires=expiry(900) if expires is None else expires,
    )


def url_for(base: str, claims: ProxyClaims, secret: str = SECRET) -> str:
    return proxy_url(base, claims, secret.encode())


@contextmanager
def running_proxy(settings: ProxySettings) -> Iterator[str]:
    """The proxy app on a background thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = create_app(settings, http_client(settings))
    config = uvicorn.Config(app, access_log=False, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "proxy did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def proxy_process(
    info: dict[str, Any], *, module: str = "seek_sync.cli", stderr: IO[bytes] | None = None
) -> Iterator[tuple[int, str]]:
    """`seek-sync proxy serve --port 0` as its own process (or `module`, a variant of it), its
    log lines into `stderr` if given; yields its pid and base URL once it printed its start-up
    line."""
    with own_process(proxy_values(info), module=module, stderr=stderr) as started:
        yield started


def vm_hwm_kb(pid: int) -> int:
    """The process's peak resident set size (VmHWM), in kB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")
