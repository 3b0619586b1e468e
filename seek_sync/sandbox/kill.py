"""The `kill` fault: signal the client's process (SIGKILL by default), then drop its connection."""

from __future__ import annotations

import asyncio
import logging
import os
import time

import psutil
from aiohttp import web

from seek_sync.sandbox.faults import Fault

log = logging.getLogger("seek_sync.sandbox.kill")

KILLED = web.RequestKey("killed", bool)  # set once a handler has applied the `kill` itself
DEAD_WAIT_SECONDS = 2.0  # how long to wait for the process to die before dropping anyway
DRAIN_WAIT_SECONDS = 2.0  # how long to wait for bytes already written to leave the server


def _gone(pid: int) -> bool:
    """Whether `pid` has exited (a zombie counts as gone: it runs no more code)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[-1].split()
    except FileNotFoundError:
        return True
    except OSError:  # no /proc: ask the kernel whether the pid still exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False
    return not fields or fields[0] in (b"Z", b"X")


def _signal(fault: Fault) -> bool:
    """Send the fault's signal; False (and a line on stderr) when there is nothing to signal."""
    where = f"kill fault on {fault.endpoint!r}"
    if fault.pid is None:
        log.warning("%s has no pid; dropping the connection only", where)
        return False
    if fault.pid == os.getpid():
        log.warning("%s names the sandbox's own pid %d; not signalled", where, fault.pid)
        return False
    try:
        os.kill(fault.pid, fault.signal)
    except ProcessLookupError:
        log.warning("%s: process %d is already gone; dropping the connection", where, fault.pid)
        return False
    except OSError as error:
        log.warning("%s: cannot signal process %d (%s)", where, fault.pid, error)
        return False
    log.warning("%s: sent signal %d to process %d", where, fault.signal, fault.pid)
    return True


async def kill_client(fault: Fault) -> None:
    """Signal `fault.pid` and wait (briefly, without blocking the loop) until it has exited."""
    if not _signal(fault):
        return
    assert fault.pid is not None
    deadline = time.monotonic() + DEAD_WAIT_SECONDS
    while not _gone(fault.pid):
        if time.monotonic() > deadline:
            log.warning("process %d still runs after signal %d", fault.pid, fault.signal)
            return
        await asyncio.sleep(0.005)


async def drain(request: web.Request) -> None:
    """Wait until what the handler wrote has left the transport's buffer (bounded)."""
    deadline = time.monotonic() + DRAIN_WAIT_SECONDS
    transport = request.transport
    while transport is not None and transport.get_write_buffer_size() > 0:
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.005)


async def kill_and_drop(request: web.Request, fault: Fault) -> web.Response:
    """Kill the client, then abort the connection: no (further) response byte is ever sent."""
    request[KILLED] = True
    await kill_client(fault)
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=499)


def caller_pid(request: web.Request) -> int | None:
    """The pid of the local process on the other end of this request's connection, if any."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return peer_pid(str(peer[0]), int(peer[1])) if peer else None


def peer_pid(ip: str, port: int) -> int | None:
    """The pid of the local process whose TCP socket is bound to (ip, port), if any (a scan of
    the host's connections: tens of milliseconds)."""
    address = (ip, port)
    for _ in range(2):  # a scan can miss a socket's owner while its fds change: once more
        for connection in psutil.net_connections(kind="tcp"):
            laddr = connection.laddr
            if laddr and (laddr.ip, laddr.port) == address and connection.pid is not None:
                return connection.pid
    return None
