"""Fixtures of the browser test: Debian's Chromium through Playwright (never a downloaded browser),
`seek-sync dev` on free ports in a temporary home, and the artefacts directory.

Without Chromium or an importable Playwright the test skips with one line, or fails under
`CI=true` (`make test` installs Chromium with apt when it runs as root).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.dev_stack import DevStack, dev_stack
from tests.browser.visits import artifacts_dir

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Chromium in a container as root: no sandbox; /dev/shm may be small.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1600, "height": 1000}


def missing(reason: str) -> None:
    """Fail under CI (where the browser test must run), else skip with one line."""
    if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
        pytest.fail(f"browser test cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def chromium() -> str:
    """The path of Debian's Chromium, with Playwright importable."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        missing(f"playwright is not importable ({error}); `make test` installs the dev extra")
    path = shutil.which("chromium")
    if path is None:
        missing("no `chromium` on PATH; `make test` installs Debian's chromium with apt as root")
    return str(path)


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
