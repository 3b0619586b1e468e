"""CPU and memory of a group of process trees, through psutil, for the trickle benchmark.

A path is a few root processes (the loop; the daemon and the code server; ...) and whatever they
start (the daemon's runs are processes of the code server). `cpu_seconds` adds up, over every
process alive in those trees now, its own CPU time and that of the children it has reaped, so a
run process that came and went still counts once it is waited for; `sample` adds up their
resident sets and keeps the largest sum seen.
"""

from __future__ import annotations

from collections.abc import Iterable

import psutil

MB = 1024 * 1024


class TreeMeter:
    """The processes under `roots` (the roots included), measured together."""

    def __init__(self, roots: Iterable[int]) -> None:
        self.roots = list(roots)
        self.peak_rss_mb = 0.0

    def processes(self) -> list[psutil.Process]:
        found: dict[int, psutil.Process] = {}
        for pid in self.roots:
            try:
                root = psutil.Process(pid)
                for process in [root, *root.children(recursive=True)]:
                    found.setdefault(process.pid, process)
            except psutil.Error:
                continue  # gone
        return list(found.values())

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.processes():
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total

    def sample(self) -> float:
        """The trees' resident set now, in MiB (and the peak so far updated)."""
        rss = 0
        for process in self.processes():
            try:
                rss += process.memory_info().rss
            except psutil.Error:
                continue
        self.peak_rss_mb = max(self.peak_rss_mb, rss / MB)
        return rss / MB
