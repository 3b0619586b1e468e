"""Fixtures of the browser test: Debian's Chromium through Playwright (never a downloaded browser),
`seek-sync dev` on free ports in a temporary home, and the artefacts directory.

Without Chromium the test skips with one line, or fails under `CI=true` (`make test` installs
Chromium with apt when it runs as root). Playwright is a pinned dev dependency, imported plainly.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.dev_stack import DevStack, dev_stack
from tests.browser.visits import artifacts_dir
from tests.services import fail_or_skip

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Chromium in a container as root: no sandbox; /dev/shm may be small.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1600, "height": 1000}


@pytest.fixture
def chromium() -> str:
    """The path of Debian's Chromium. Playwright is a pinned dev dependency, so an import error
    is a failure; a missing browser fails under CI and skips elsewhere (`make test` installs it
    with apt when make runs as root, so it is missing only where pytest runs on its own)."""
    import playwright.sync_api  # noqa: F401

    path = shutil.which("chromium")
    if path is None:
        fail_or_skip(
            "no `chromium` on PATH", "run `make test` as root, or `apt-get install chromium`"
        )
    return path


@pytest.fixture
def artifacts() -> Path:
    return artifacts_dir()


@pytest.fixture
def stack(chromium: str, tmp_path: Path, artifacts: Path) -> Iterator[DevStack]:
    """`seek-sync dev` running (code location loaded); its log copied to the artefacts after."""
    artifacts.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "seek-sync-dev.log"
    try:
        with dev_stack(tmp_path / "home", log) as running:
            yield running
    finally:
        if log.exists():
            shutil.copyfile(log, artifacts / "seek-sync-dev.log")


@pytest.fixture
def ui_page(chromium: str) -> Iterator[Page]:
    """A headless Chromium page (Debian's binary, launched by Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()
