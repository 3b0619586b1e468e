"""`seek-sync demo`: the sandbox, the receiver, the poller and the client, end to end on loopback.

Starts the sandbox and the receiver app in-process, polls every event into the inbox, has the
sandbox push new applications as duplicated and reordered signed webhooks, downloads one
application's attachments, prints a summary, and checks it against the sandbox's own counts.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from seek_sync.inbox import Inbox
from seek_sync.poller import poll
from seek_sync.receiver import running_receiver
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.server import SandboxServer
from seek_sync.seek.client import SeekClient, http_client
from seek_sync.seek.downloads import DownloadResult, FileSink
from seek_sync.settings import Settings, load_settings


def sandbox_settings(info: dict[str, str], home: Path, **overrides: object) -> Settings:
    """Settings that point every SEEK URL and credential at a running sandbox."""
    return load_settings(
        seek_client_id=info["client_id"],
        seek_client_secret=info["client_secret"],
        seek_audience=info["audience"],
        seek_token_url=info["seek_token_url"],
        seek_graphql_url=info["seek_graphql_url"],
        seek_scheme_id=info["scheme_id"],
        seek_webhook_secret=info["webhook_secret"],
        home=home,
        **overrides,
    )


async def _poll_and_download(
    settings: Settings, inbox: Inbox, profile_id: str
) -> tuple[int, list[DownloadResult]]:
    async with http_client(settings) as http:
        client = SeekClient(http, settings)
        report = await poll(client, inbox, budget_seconds=settings.poll_time_budget_seconds)
        [result] = await client.profiles([profile_id])
        if result.profile is None:
            raise RuntimeError(f"profile {profile_id}: {result.status} {result.error}")
        target = Path(settings.home) / "downloads"
        target.mkdir(parents=True, exist_ok=True)
        downloads = []
        for index, attachment in enumerate(result.profile.attachments):
            sink = FileSink(target / f"{index}.part")
            done = await client.download(attachment.url, sink)
            sink.path.rename(target / f"{index}-{done.safe_filename}")
            downloads.append(done)
        return report.events_new, downloads


def _short(mime: str | None) -> str:
    """`application/vnd.openxmlformats-officedocument.wordprocessingml.document` -> `docx`."""
    names = {"wordprocessingml.document": "docx", "plain": "txt", "octet-stream": "binary"}
    tail = (mime or "-").rsplit("/", 1)[-1].removeprefix("vnd.openxmlformats-officedocument.")
    return names.get(tail, tail)


def run_demo(applications: int = 60, home: Path = Path(".seek-sync/demo")) -> int:
    started = time.perf_counter()
    shutil.rmtree(home, ignore_errors=True)
    config = SandboxConfig(applications=applications, edge_cases=False)
    with SandboxServer(config) as sandbox:
        world = sandbox.state.world
        settings = sandbox_settings(sandbox.info(), home)
        inbox = Inbox(settings.inbox_path)
        print(f"sandbox  {sandbox.base_url}  ({len(world.hirers)} hirers, {applications} apps)")
        with running_receiver(settings, inbox) as receiver_url:
            print(f"receiver {receiver_url}")
            busy = max(world.applications.values(), key=lambda a: len(a.attachments))
            polled, downloads = asyncio.run(_poll_and_download(settings, inbox, busy.profile_id))
            added = world.add_applications(5)
            report = sandbox.deliver_webhooks(
                f"{receiver_url}/webhooks/seek", added, duplicate=True, reorder=True
            )
        expected_events = len(world.events)
        counts = inbox.counts()

    print("\nhirers:")
    for hirer in world.hirers.values():
        apps = sum(1 for a in world.applications.values() if a.hirer_id == hirer.id)
        export = "ApplicationExport" if hirer.relationship else "no relationship"
        print(f"  {hirer.id:<44} {export:<18} {apps:>3} applications")
    print(f"\npolled into the inbox:   {polled} events")
    print(
        f"webhooks delivered:      {report.batches} batch(es), {report.attempts} POST(s): "
        "5 new applications, each sent twice, reordered"
    )
    print(f"inbox now holds:         {counts}")
    print(f"\nattachments of {busy.profile_id}:")
    print(f"  {'role':<18} {'bytes':>9}  {'declared':<10} {'sniffed':<10} sha256")
    for attachment, d in zip(busy.attachments, downloads, strict=True):
        print(
            f"  {attachment.role or '(other)':<18} {d.size:>9,}  {_short(d.declared_type):<10} "
            f"{_short(d.sniffed_type):<10} {d.sha256[:16]}…"
        )
    problems = []
    if counts["events"] != expected_events:
        problems.append(f"inbox has {counts['events']} events, sandbox {expected_events}")
    want = {(a.size, a.kind) for a in busy.attachments}
    if {d.size for d in downloads} != {size for size, _ in want}:
        problems.append("downloaded sizes differ from the sandbox's files")
    for problem in problems:
        print(f"MISMATCH: {problem}")
    print(f"\ndemo {'FAILED' if problems else 'ok'} in {time.perf_counter() - started:.1f} s")
    return 1 if problems else 0
