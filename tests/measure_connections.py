"""Peak PostgreSQL connections per process, measured (docs/operating.md, "Connections").

1. `seek-sync bench` on the server backend (a private database, local blobs): its library path
   (`seek_sync.bench.library`: runs in process), its Dagster path (`seek-sync sync --loop`: sensor
   ticks and runs in process, Dagster's instance on PostgreSQL), each with its receiver, are each a
   process of their own.
2. A burst: `--burst` concurrent signed webhook deliveries against one `seek-sync receiver serve`.

Every process under the command is sampled every 20 ms for its TCP connections to the server's
port (psutil), so each figure is that process's own sockets; a connection opened and closed
between two samples (Dagster's, one per storage call) can be missed, so peaks are lower bounds.
Prints one JSON object. Not a test (nothing asserts); run it on a quiet machine:

    .venv/bin/python -m tests.measure_connections --applications 100 --hirers 20 --burst 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
import psutil

from tests.services import database_url, private_database
from tests.test_receiver import SECRET, body_of, item, signed
from tests.test_receiver_process import receiver_env, serving

PORT = int(os.environ.get("PGPORT", "5432"))
KINDS = (
    ("seek_sync.bench.library", "library path (runs in process)"),
    ("sync --loop", "seek-sync sync --loop (ticks and runs in process)"),
    ("seek_sync.cli sync", "seek-sync sync (one tick, as from cron)"),
    ("receiver serve", "seek-sync receiver serve"),
    ("sandbox serve", "sandbox"),
    ("bench", "bench driver"),
)
HELPERS = ("resource_tracker", "multiprocessing")  # Python's helper processes: never connect


def kind_of(process: psutil.Process) -> str:
    try:
        line = " ".join(process.cmdline())
    except psutil.Error:
        return "gone"
    if any(helper in line for helper in HELPERS):
        return "gone"
    return next((name for marker, name in KINDS if marker in line), line[:60])


def pg_sockets(process: psutil.Process) -> int:
    try:
        found = process.net_connections(kind="tcp")
    except psutil.Error:
        return 0
    return sum(1 for c in found if c.raddr and c.raddr.port == PORT)


class Sampler:
    """The peak, per kind of process, of one process's connections to the server's port."""

    def __init__(self, roots: Callable[[], list[psutil.Process]]) -> None:
        self.roots, self.peaks, self.stop = roots, dict[str, int](), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            for root in self.roots():
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                for process in tree:
                    kind = kind_of(process)
                    count = pg_sockets(process)
                    if kind != "gone" and kind_of(process) == kind:  # still the same process
                        self.peaks[kind] = max(self.peaks.get(kind, 0), count)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def bench(applications: int, hirers: int) -> dict[str, int]:
    with private_database("seek_sync_conns") as database, TemporaryDirectory() as folder:
        env = {**os.environ, "SEEK_SYNC_DATABASE_URL": database_url(database, "psycopg")}
        env.pop("SEEK_SYNC_BLOB_URL", None)
        command = [str(Path(sys.executable).parent / "seek-sync"), "bench", "--json"]
        command += ["--applications", str(applications), "--hirers", str(hirers)]
        process = subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.DEVNULL)
        root = psutil.Process(process.pid)
        with Sampler(lambda: [root]) as sampler:
            process.wait()
        if process.returncode:
            raise SystemExit(f"the bench exited with {process.returncode}")
        return sampler.peaks


async def deliver(port: int, burst: int) -> list[int]:
    bodies = [body_of(*(item(n * 10 + i) for i in range(10))) for n in range(burst)]
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=burst)) as client:
        url = f"http://127.0.0.1:{port}/webhooks/seek"
        answers = await asyncio.gather(
            *(client.post(url, content=b, headers=signed(b), timeout=60) for b in bodies)
        )
    return [a.status_code for a in answers]


def receiver_burst(burst: int) -> dict[str, object]:
    with private_database("seek_sync_conns") as database, TemporaryDirectory() as folder:
        url = database_url(database, "psycopg")
        env = receiver_env(Path(folder), SEEK_SYNC_DATABASE_URL=url)
        env["SEEK_SYNC_SEEK_WEBHOOK_SECRET"] = SECRET
        with serving(Path(folder), env) as receiver:
            process = psutil.Process(receiver.process.pid)
            with Sampler(lambda: [process]) as sampler:
                statuses = asyncio.run(deliver(receiver.port, burst))
                time.sleep(0.5)
            idle = pg_sockets(process)
    return {
        "deliveries": burst,
        "all_204": all(s == 204 for s in statuses),
        "peak": sampler.peaks.get("seek-sync receiver serve", 0),
        "idle_after": idle,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100)
    parser.add_argument("--hirers", type=int, default=20)
    parser.add_argument("--burst", type=int, default=64)
    args = parser.parse_args()
    peaks = bench(args.applications, args.hirers)
    burst = receiver_burst(args.burst)
    print(json.dumps({"bench": vars(args) | {"peaks": peaks}, "receiver_burst": burst}))


if __name__ == "__main__":
    main()
