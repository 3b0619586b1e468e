"""`free_port`: a loopback port a process can bind, never one from the kernel's ephemeral range
(which outgoing connections take from, and so could hold by the time the process binds it)."""

from __future__ import annotations

import socket

from seek_sync.process_stack import PORTS_FROM, _ephemeral_low, free_port


def test_free_ports_bind_and_lie_below_the_ephemeral_range() -> None:
    low = _ephemeral_low()
    ports = [free_port() for _ in range(20)]
    assert all(PORTS_FROM <= port < low for port in ports), (ports, low)
    for port in set(ports):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # free: a taken port raises
