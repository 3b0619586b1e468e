"""A 24,999,999-byte attachment through a freshly started proxy process grows its peak RSS
(VmHWM) by less than 8 MB; the same proxy buffering the whole body grows it by more."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from seek_sync.proxy.tokens import ProxyClaims, expiry, proxy_url
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.state import world_of
from tests.processes import sandbox_process
from tests.proxy_helpers import SECRET, proxy_process, vm_hwm_kb

SIZE = 24_999_999
LIMIT_KB = 8 * 1024


def _growth_kb(info: dict[str, Any], claims: ProxyClaims, module: str) -> tuple[int, str]:
    """VmHWM growth of a fresh proxy process (`module`) over one fetch, and the body's digest."""
    with proxy_process(info, module=module) as (pid, base):
        assert httpx.get(f"{base}/healthz", timeout=30).status_code == 200
        before = vm_hwm_kb(pid)
        digest, size = hashlib.sha256(), 0
        with httpx.stream("GET", proxy_url(base, claims, SECRET.encode()), timeout=60) as response:
            assert response.status_code == 200
            for chunk in response.iter_raw(1 << 16):
                digest.update(chunk)
                size += len(chunk)
        assert size == SIZE
        return vm_hwm_kb(pid) - before, digest.hexdigest()


def test_proxy_streams_in_constant_memory() -> None:
    world = world_of(SandboxConfig())  # the world the default sandbox process serves
    application_id, attachment_id = world.edge_cases["url_limit_under"]
    application = world.by_application_id[application_id]
    with sandbox_process() as sandbox:
        info = sandbox.info
        claims = ProxyClaims(
            hirer_id=application.hirer_id,
            profile_id=application.profile_id,
            attachment_id=attachment_id,
            url=f"{info['base_url']}/anzPublicTest/applications/{application_id}"
            f"/attachments/{attachment_id}",
            target="onderwijsregio",
            expires=expiry(900),
        )
        streaming, digest = _growth_kb(info, claims, "seek_sync.cli")
        buffering, buffered_digest = _growth_kb(info, claims, "tests.proxy_buffering")
    print(f"\nproxy VmHWM growth, {SIZE:,} bytes: {streaming} kB; buffering variant {buffering} kB")
    assert digest == buffered_digest
    assert streaming < LIMIT_KB, streaming
    assert buffering > LIMIT_KB, buffering  # the negative control: the measure can fail
