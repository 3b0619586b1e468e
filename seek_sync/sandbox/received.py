"""What the ATS fakes keep of a file they received: its size and SHA-256, never the bytes in memory.

A sandbox serves as many uploads as a benchmark sends, so holding them would make it the first
thing to fall over at scale. Where a test must read a file back (`keep_received_files`), the bytes
are spilled, content-addressed, to a folder of the sandbox's own (a fresh temporary folder, never
under seek-sync's home or the test's folder, which other tests search for leaks), removed when
the sandbox stops.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

NOT_KEPT = "this sandbox keeps only sizes and digests (start it with keep_received_files)"


@dataclass(frozen=True)
class Received:
    """One received file as the fakes remember it."""

    size: int
    sha256: str


class ReceivedFiles:
    """Digests of received files, and their bytes on disk when `keep` is on."""

    def __init__(self, keep: bool = False) -> None:
        self.keep = keep
        self.bytes_received = 0
        self._lock = threading.Lock()
        self._folder: Path | None = None

    @property
    def folder(self) -> Path | None:
        """The spill folder, once a file was kept."""
        return self._folder

    def take(self, data: bytes | bytearray) -> Received:
        """Remember `data` (spill it when keeping); the caller then lets the bytes go."""
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            self.bytes_received += len(data)
            if self.keep:
                if self._folder is None:
                    self._folder = Path(tempfile.mkdtemp(prefix="seek-sync-sandbox-received-"))
                path = self._folder / digest
                if not path.exists():
                    partial = path.with_suffix(".part")
                    partial.write_bytes(data)
                    partial.replace(path)
        return Received(len(data), digest)

    def read(self, sha256: str) -> bytes | None:
        """The bytes of a kept file; None when not kept (or never received)."""
        folder = self._folder
        if folder is None or len(sha256) != 64 or not sha256.isalnum():
            return None
        try:
            return (folder / sha256).read_bytes()
        except FileNotFoundError:
            return None

    def close(self) -> None:
        """Remove the spill folder (the sandbox is stopping)."""
        with self._lock:
            folder, self._folder = self._folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
