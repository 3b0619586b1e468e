"""`seek-sync bench --floor`: the library's SEEK client against a bare aiohttp client.

The sandbox runs as its own process with `--byte-cache` (files and GraphQL answers served from
bytes made once), so what is timed is the client. The requests are read once through the library
(events, every profile, every attachment, which also fills the cache). Then, after a round that
warms both sides, for a few rounds the library path and the floor take turns over the same
requests, each from a new client as a run step opens one (token included):

- library: `SeekClient` on `http_client(settings)`: profiles through `profiles()` (parsed into the
  typed model), downloads through `download()` (origin check, SHA-256, sniffed type, safe name)
  into a sink that drops the bytes; the client's own concurrency limits.
- floor: one `aiohttp.ClientSession` with the same limits; each profile's JSON parsed, each
  download hashed with SHA-256.

Rates are the median over the rounds; a ratio is the library's rate over the floor's (wall time),
and a `_cpu_ratio` the floor's CPU seconds over the library's (this process only), which a busy
machine disturbs less.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp

from seek_sync.child_signals import default_stop_signals, stop_child
from seek_sync.progress import CommandProgress
from seek_sync.seek.client import SeekClient, http_client
from seek_sync.seek.downloads import HashOnlySink
from seek_sync.seek.queries import CANDIDATE_PROFILE
from seek_sync.settings import SeekClientSettings

Timed = Callable[[SeekClientSettings, list[str]], Awaitable[int]]


@contextmanager
def byte_cache_sandbox(*options: str) -> Iterator[dict[str, Any]]:
    """`seek-sync sandbox serve --byte-cache` as its own process; its start-up line."""
    command = [sys.executable, "-m", "seek_sync.cli", "sandbox", "serve", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--byte-cache", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=default_stop_signals,
    )
    try:
        yield json.loads(process.stdout.readline())  # type: ignore[union-attr]
    finally:
        stop_child(process, grace=10)


def client_settings(info: dict[str, Any]) -> SeekClientSettings:
    return SeekClientSettings(
        seek_token_url=info["seek_token_url"],
        seek_graphql_url=info["seek_graphql_url"],
        seek_client_id=info["client_id"],
        seek_client_secret=info["client_secret"],
        seek_audience=info["audience"],
        seek_scheme_id=info["scheme_id"],
    )


async def requests_of(settings: SeekClientSettings) -> tuple[list[str], list[str]]:
    """Every profile id the event stream names and every attachment URL of those profiles;
    each attachment downloaded once (this fills the sandbox's byte cache)."""
    async with http_client(settings) as http:
        client = SeekClient(http, settings)
        ids = []
        async for page in client.event_pages(None):
            ids += [e.profile_id for e in page.events if e.profile_id]
        ids = list(dict.fromkeys(ids))
        profiles = await client.profiles(ids)
        urls = [a.url for p in profiles if p.profile for a in p.profile.attachments]
        await asyncio.gather(*(_library_download(client, url) for url in urls))
    return ids, urls


async def _library_download(client: SeekClient, url: str) -> int:
    async with client.download_gate:
        return (await client.download(url, HashOnlySink())).size


async def library_profiles(settings: SeekClientSettings, ids: list[str]) -> int:
    async with http_client(settings) as http:
        results = await SeekClient(http, settings).profiles(ids)
    if any(r.status != "ok" for r in results):
        raise RuntimeError("the library path failed a profile query")
    return len(results)


async def library_downloads(settings: SeekClientSettings, urls: list[str]) -> int:
    async with http_client(settings) as http:
        client = SeekClient(http, settings)
        return sum(await asyncio.gather(*(_library_download(client, url) for url in urls)))


async def _floor_session(settings: SeekClientSettings) -> tuple[aiohttp.ClientSession, str]:
    size = settings.seek_profile_concurrency + settings.seek_download_concurrency
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=size))
    grant = {
        "client_id": settings.seek_client_id,
        "client_secret": settings.seek_client_secret.get_secret_value(),
        "audience": settings.seek_audience,
        "grant_type": "client_credentials",
    }
    async with session.post(settings.seek_token_url, json=grant) as response:
        token = (await response.json())["access_token"]
    return session, f"Bearer {token}"


async def floor_profiles(settings: SeekClientSettings, ids: list[str]) -> int:
    session, bearer = await _floor_session(settings)
    gate = asyncio.Semaphore(settings.seek_profile_concurrency)

    async def one(profile_id: str) -> dict[str, Any]:
        payload = {"query": CANDIDATE_PROFILE, "variables": {"id": profile_id}}
        async with (
            gate,
            session.post(
                settings.seek_graphql_url, json=payload, headers={"Authorization": bearer}
            ) as response,
        ):
            return json.loads(await response.read())["data"]["candidateProfile"]

    async with session:
        found = await asyncio.gather(*(one(p) for p in ids))
    return sum(profile is not None for profile in found)


async def floor_downloads(settings: SeekClientSettings, urls: list[str]) -> int:
    session, bearer = await _floor_session(settings)
    gate = asyncio.Semaphore(settings.seek_download_concurrency)

    async def one(url: str) -> int:
        digest, size = hashlib.sha256(), 0
        async with gate, session.get(url, headers={"Authorization": bearer}) as response:
            async for chunk in response.content.iter_chunked(65536):
                digest.update(chunk)
                size += len(chunk)
        return size

    async with session:
        return sum(await asyncio.gather(*(one(u) for u in urls)))


async def _timed(
    run: Timed, settings: SeekClientSettings, items: list[str]
) -> tuple[float, float, int]:
    """Wall seconds, this process's CPU seconds, and what `run` counted."""
    started, cpu = time.perf_counter(), time.process_time()
    done = await run(settings, items)
    return time.perf_counter() - started, time.process_time() - cpu, done


async def measure_floor(
    settings: SeekClientSettings, rounds: int, progress: CommandProgress
) -> dict[str, Any]:
    progress.step("floor: reading the requests once (fills the sandbox's byte cache)")
    ids, urls = await requests_of(settings)
    seconds: dict[str, list[float]] = {}
    cpu_seconds: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    pairs: list[tuple[str, Timed, list[str]]] = [
        ("library_profiles", library_profiles, ids),
        ("floor_profiles", floor_profiles, ids),
        ("library_downloads", library_downloads, urls),
        ("floor_downloads", floor_downloads, urls),
    ]
    for n in range(rounds + 1):  # round 0 warms both sides (the floor's own request bodies)
        for name, run, items in pairs:
            progress.step(f"floor: round {n} of {rounds}: {name.replace('_', ' ')}")
            elapsed, cpu, done = await _timed(run, settings, items)
            if n:
                seconds.setdefault(name, []).append(elapsed)
                cpu_seconds.setdefault(name, []).append(cpu)
            counts[name] = done
    if counts["library_downloads"] != counts["floor_downloads"]:
        raise RuntimeError("the library path and the floor downloaded different byte counts")
    median = {name: statistics.median(values) for name, values in seconds.items()}
    cpu = {name: statistics.median(values) for name, values in cpu_seconds.items()}
    rates = {
        side: {
            "profiles_per_s": round(len(ids) / median[f"{side}_profiles"], 1),
            "download_mb_per_s": round(
                counts[f"{side}_downloads"] / 1e6 / median[f"{side}_downloads"], 1
            ),
            "downloads_per_s": round(len(urls) / median[f"{side}_downloads"], 1),
        }
        for side in ("library", "floor")
    }
    library, floor = rates["library"], rates["floor"]
    return {
        "profiles": len(ids),
        "downloads": len(urls),
        "download_bytes": counts["floor_downloads"],
        "rounds": rounds,
        "library": library,
        "floor": floor,
        "profiles_ratio": round(median["floor_profiles"] / median["library_profiles"], 3),
        "downloads_ratio": round(median["floor_downloads"] / median["library_downloads"], 3),
        # The same comparison in the client's CPU seconds: steadier on a busy machine.
        "profiles_cpu_ratio": round(cpu["floor_profiles"] / cpu["library_profiles"], 3),
        "downloads_cpu_ratio": round(cpu["floor_downloads"] / cpu["library_downloads"], 3),
    }


def run_floor(
    applications: int,
    hirers: int,
    seed: int = 7,
    rounds: int = 3,
    progress: CommandProgress | None = None,
) -> dict[str, Any]:
    """The floor comparison on a byte-cache sandbox of this size; one JSON-able object."""
    progress = progress or CommandProgress(mode="plain")
    progress.step("floor: starting a byte-cache sandbox")
    world = ["--applications", str(applications), "--hirers", str(hirers), "--seed", str(seed)]
    with byte_cache_sandbox(*world, "--no-edge-cases") as info:
        result = asyncio.run(measure_floor(client_settings(info), rounds, progress))
    return {"applications": applications, "hirers": hirers, **result}
