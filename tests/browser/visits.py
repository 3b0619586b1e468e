"""What the browser test saw: one screenshot and the page's HTML and visible text per visit, and
the search of all of it for the sandbox candidates' names and emails.

The candidates are the sandbox's own seeded world, rebuilt in this process from the same
`SandboxConfig` that `seek-sync dev` starts (the world is deterministic for a seed, `now`
included), plus the people the Kombo fake seeds its own applications with.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

from seek_sync.local_stack import PROJECT_ROOT
from seek_sync.sandbox.config import SandboxConfig
from seek_sync.sandbox.state import world_of
from tests.dagster.leak_search import personal_values

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS_ENV = "SEEK_SYNC_TEST_ARTIFACTS"
LOADING = re.compile(r"^Loading|fetching statuses")  # Dagster UI placeholders


def artifacts_dir() -> Path:
    """`$SEEK_SYNC_TEST_ARTIFACTS/browser`, else `test-artifacts/browser` in the project root."""
    root = os.environ.get(ARTIFACTS_ENV) or str(PROJECT_ROOT / "test-artifacts")
    return Path(root) / "browser"


@dataclass
class Visit:
    name: str
    url: str
    html: str
    text: str

    @property
    def haystack(self) -> str:
        return f"{self.url}\n{self.html}\n{self.text}".lower()


@dataclass
class Recorder:
    """Numbered screenshots (`01-name.png`, ...) plus an `index.txt` of what each shows."""

    page: Page
    directory: Path
    visits: list[Visit] = field(default_factory=list)
    shots: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in [*self.directory.glob("[0-9][0-9]-*.png"), self.directory / "index.txt"]:
            old.unlink(missing_ok=True)

    def read(self, name: str) -> Visit:
        """The page as it is now (DOM and visible text), kept for the personal-data search."""
        visit = Visit(name, self.page.url, self.page.content(), self.page.inner_text("body"))
        self.visits.append(visit)
        return visit

    def settle(self) -> None:
        """For the picture only: let placeholders fill in (3 s at most) and transitions end."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        loading = self.page.get_by_text(LOADING)
        with contextlib.suppress(PlaywrightTimeout):
            loading.first.wait_for(state="hidden", timeout=3_000)
        self.page.wait_for_timeout(500)

    def shot(self, name: str, shows: str) -> Visit:
        """A screenshot of the viewport and a read of the page."""
        self.settle()
        filename = f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=self.directory / filename)
        self.shots.append((filename, shows))
        (self.directory / "index.txt").write_text(
            "".join(f"{file}: {what}\n" for file, what in self.shots), encoding="utf-8"
        )
        return self.read(name)


def candidate_people(config: SandboxConfig | None = None) -> dict[str, str]:
    """label -> value: the names and emails of the people of the sandbox `seek-sync dev` runs
    (the same seed and settings, rebuilt here)."""
    return personal_values(world_of(config or SandboxConfig()))


def encodings(value: str) -> dict[str, str]:
    """The forms a value takes in a page: as is, HTML-escaped, URL-quoted, JSON-escaped."""
    return {
        "raw": value,
        "html": html.escape(value),
        "url": quote(value, safe=""),
        "url+": quote_plus(value),
        "json": json.dumps(value)[1:-1],
    }


def search(visits: list[Visit], values: dict[str, str]) -> list[str]:
    """`page: label (form)` for each value found in a visit, case-insensitively."""
    hits: list[str] = []
    for visit in visits:
        haystack = visit.haystack
        for label, value in values.items():
            for form, encoded in encodings(value).items():
                if encoded.lower() in haystack:
                    hits.append(f"{visit.name} ({visit.url}): {label} ({form})")
                    break
    return hits
