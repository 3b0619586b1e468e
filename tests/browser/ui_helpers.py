"""What the browser test does on the Dagster UI's pages beyond visiting them: descriptions as the
UI renders them, the welcome dialog skipped, a check evaluation's metadata opened, a run's log
read through its virtualized table."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.visits import Recorder


def description_line(description: str | None) -> str:
    """A description's first paragraph as the UI renders it (Markdown `code` loses its marks)."""
    return " ".join((description or "").split("\n\n")[0].replace("`", "").split())


def any_of(texts: set[str] | list[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in sorted(texts)))


def skip_welcome(page: Page) -> None:
    """A fresh instance greets the first visitor with a newsletter dialog: skip it whenever it
    covers what the test is about to click or check."""
    page.add_locator_handler(
        page.get_by_text("Join the Dagster community"),
        lambda: page.get_by_role("button", name="Skip").click(),
    )


def show_reason(
    page: Page, key: str, hirer_id: str, reasons: set[str], status: str = "Failed"
) -> None:
    """On a check's execution history: open the metadata of an evaluation of the hirer's
    partition (`key`; of that status), which names the hirer (`hirer_id`), then each of its JSON
    entries until one shows a reason (that dialog stays open)."""
    row = page.get_by_role("row").filter(has_text=key)
    row = row.filter(has_text=re.compile(status)).first
    row.get_by_role("button").last.click()  # the row's metadata
    dialogs = page.get_by_role("dialog")
    expect(dialogs).to_have_count(1)
    expect(dialogs).to_contain_text(hirer_id)
    pattern = any_of(reasons)
    if pattern.search(dialogs.inner_text()):
        return
    for index in range(dialogs.get_by_text("[Show JSON]").count()):
        dialogs.first.get_by_text("[Show JSON]").nth(index).click()
        expect(dialogs).to_have_count(2)
        if pattern.search(dialogs.last.inner_text()):
            return
        dialogs.last.get_by_role("button", name="Close").click()
        expect(dialogs).to_have_count(1)
    raise AssertionError(f"no reason of {key} in its evaluation's metadata: {reasons}")


def read_run_log(recorder: Recorder, log: Locator) -> None:
    """The run's event log is a virtualized table: scroll it top to bottom, reading each view."""
    height, view = log.evaluate("e => [e.scrollHeight, e.clientHeight]")
    for index, top in enumerate(range(0, height + view, max(view - 40, 100))):
        log.evaluate("(e, y) => { e.scrollTop = y; }", top)
        recorder.page.wait_for_timeout(100)
        recorder.read(f"run-log-{index:02d}")
