"""The Dagster UI of `seek-sync dev`, in Debian's Chromium driven by Playwright.

One walk through the UI of a fresh stack (the sensor starts the first runs by itself): the asset
lineage and catalog show the assets with their descriptions (taken from the `Definitions`), a run
of one hirer launched from the `hirer_sync` job's materialize dialog succeeds, the `ats_uploads`
checks tab shows a failing check whose metadata carries the reason an upload was refused (and the
events tab the `not_sent` reasons), and no page visited holds a sandbox candidate's name or email.
Screenshots of each page land in `test-artifacts/browser/` (see `visits.artifacts_dir`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from seek_sync.file_policy import refusal
from seek_sync.jobs import hirer_sync
from tests.browser.dev_stack import ACTIVE, DevStack
from tests.browser.visits import Recorder, candidate_people, search

pytestmark = pytest.mark.browser
BUDGET_SECONDS = 180  # the whole test, stack start and stop included
ASSET = "ats_uploads"  # the asset whose checks count refused uploads by reason
# What our file policy answers for the sandbox's disallowed ZIP and EXE edge cases.
ZIP_AND_EXE = ("application/zip", "application/vnd.microsoft.portable-executable")
POLICY_REASONS = [refusal(mime, b"") for mime in ZIP_AND_EXE]


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


def show_reason(page: Page, hirer: str, reasons: set[str]) -> None:
    """On a check's execution history: open the metadata of a failed evaluation for `hirer`,
    then each of its JSON entries until one shows a reason (that dialog stays open)."""
    row = page.get_by_role("row").filter(has_text=hirer).filter(has_text="Failed").first
    row.get_by_role("button").last.click()  # the row's metadata
    dialogs = page.get_by_role("dialog")
    expect(dialogs).to_have_count(1)
    expect(dialogs).to_contain_text(hirer)
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
    raise AssertionError(f"no reason of {hirer} in its failed evaluation's metadata: {reasons}")


def read_run_log(recorder: Recorder, log: Locator) -> None:
    """The run's event log is a virtualized table: scroll it top to bottom, reading each view."""
    height, view = log.evaluate("e => [e.scrollHeight, e.clientHeight]")
    for index, top in enumerate(range(0, height + view, max(view - 40, 100))):
        log.evaluate("(e, y) => { e.scrollTop = y; }", top)
        recorder.page.wait_for_timeout(100)
        recorder.read(f"run-log-{index:02d}")


@pytest.mark.timeout(BUDGET_SECONDS)
def test_dev_ui_assets_one_hirer_run_refused_upload_and_no_personal_data(
    stack: DevStack, ui_page: Page, artifacts: Path
) -> None:
    from seek_sync.definitions import defs

    page, ui = ui_page, stack.ui_url
    recorder = Recorder(page, artifacts)
    skip_welcome(page)
    specs = sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string())
    described = {s.key.to_user_string(): description_line(s.description) for s in specs}
    assert all(described.values()), f"an asset without a description: {described}"
    groups: dict[str, list[str]] = {}
    for spec in specs:
        groups.setdefault(spec.group_name or "default", []).append(spec.key.to_user_string())
    location = stack.location_name()

    # (a) The global lineage shows every asset group; the largest group's lineage shows each of
    # its assets, and a node's sidebar its description; the catalog lists every description.
    page.goto(f"{ui}/asset-groups")
    for group in groups:
        expect(page.get_by_text(group, exact=True).first).to_be_visible()
    recorder.shot("asset-lineage", "global asset lineage: the asset groups as nodes")
    group, keys = max(groups.items(), key=lambda kv: len(kv[1]))
    page.goto(f"{ui}/locations/{location}/asset-groups/{group}")
    for key in keys:
        expect(page.locator("body")).to_contain_text(key)
    page.get_by_text(keys[0], exact=True).first.click()
    expect(page.get_by_text(described[keys[0]], exact=True).first).to_be_visible()
    shows = f"group {group}'s lineage; {keys[0]} selected, its description in the sidebar"
    recorder.shot(f"asset-group-{group}", shows)
    page.goto(f"{ui}/assets")
    for key, line in described.items():
        expect(page.get_by_text(line, exact=True).first, key).to_be_visible()
    recorder.shot("asset-catalog", "asset catalog: every asset with its description")

    # The sensor's first runs (every hirer, both ATS kinds) finish on their own.
    stack.wait("end of the sensor's first runs", 100, stack.settled)
    partitions, targets = stack.partition_keys(ASSET), stack.targets()
    kombo = sorted(h for h in partitions if targets.get(h) == "kombo")
    hirer = (kombo or sorted(partitions))[0]  # Kombo settles in one pass: no callback due later

    # (b) One hirer's run launched from the UI (the job's materialize dialog) succeeds.
    page.goto(f"{ui}/locations/{location}/jobs/{hirer_sync.name}")
    page.get_by_role("button", name="Materialize all").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_text(hirer, exact=True).first.click()
    page.keyboard.press("Escape")  # closes the partition list, not the dialog
    launch = dialog.get_by_role("button", name="Launch 1 run")
    expect(launch).to_be_enabled()
    shows = f"{hirer_sync.name}'s materialize dialog: one hirer selected, 'Launch 1 run'"
    recorder.shot("launch-one-hirer", shows)
    before = {run["runId"] for run in stack.runs()}
    launch.click()

    def launched() -> str | None:
        """The new run of `hirer_sync` for exactly this one hirer partition."""
        for run in stack.runs():
            tags = {tag["key"]: tag["value"] for tag in run["tags"]}
            if run["runId"] not in before and run["jobName"] == hirer_sync.name:
                assert tags.get("dagster/partition") == hirer, tags
                return str(run["runId"])
        return None

    run_id = stack.wait("run launched from the UI", 30, launched)

    def ended() -> str | None:
        [status] = [r["status"] for r in stack.runs() if r["runId"] == run_id]
        return None if status in ACTIVE else str(status)

    status = stack.wait(f"end of run {run_id}", 60, ended)
    assert status == "SUCCESS", stack.fail(f"run {run_id} of {hirer} ended {status}")
    page.goto(f"{ui}/runs/{run_id}")
    expect(page.get_by_text("RUN_SUCCESS").first).to_be_visible()
    expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    expect(page.locator("body")).to_contain_text(hirer)
    recorder.shot("run-success", f"the launched run of {hirer}: Success, RUN_SUCCESS in its log")
    read_run_log(recorder, page.locator('[class*="VirtualizedTable_container"]').first)
    page.goto(f"{ui}/runs")
    expect(page.get_by_text(run_id[:8]).first).to_be_visible()
    recorder.shot("runs-list", "runs list: the sensor's batched runs and the launched run")

    # (c) A refused upload shows as a failing check on ats_uploads, with its reason.
    failures = stack.failed_checks(ASSET)
    mine = [f for f in failures if f.partition == hirer]
    assert mine, stack.fail(f"no failing {ASSET} check with a reason for {hirer}: {failures}")
    reasons = set().union(*(f.reasons for f in mine))
    every_reason = set().union(*(f.reasons for f in failures))
    assert any(r.endswith(p) for r in every_reason for p in POLICY_REASONS), every_reason
    check = next((f for f in mine if f.run_id == run_id), mine[0]).check
    page.goto(f"{ui}/assets/{ASSET}")
    expect(page.get_by_text(described[ASSET], exact=True).first).to_be_visible()
    recorder.shot("ats-uploads-overview", f"{ASSET}'s overview: description, latest check results")
    page.goto(f"{ui}/assets/{ASSET}?view=events")
    page.get_by_text(hirer, exact=True).first.click()
    expect(page.get_by_text(f"Partition {hirer} materialized in run")).to_be_visible()
    reason_texts = {r.split(": ", 1)[1] for r in reasons}
    table = page.get_by_text(any_of(reason_texts)).first
    expect(table).to_be_visible()
    table.scroll_into_view_if_needed()
    shows = f"{ASSET}'s events: {hirer}'s materialization, its not_sent table of reasons"
    recorder.shot("ats-uploads-not-sent", shows)
    page.goto(f"{ui}/assets/{ASSET}?view=checks")
    entry = page.get_by_title(check, exact=True).first.locator("xpath=..")  # name + status
    expect(entry).to_contain_text("Failed")
    entry.click()
    expect(page.get_by_text("Latest execution")).to_be_visible()
    recorder.shot("ats-uploads-checks", f"{ASSET}'s checks tab: {check} failed")
    page.get_by_text("Execution history", exact=True).click()
    show_reason(page, hirer, reasons)
    shows = f"{check}'s execution history: {hirer}'s failed evaluation, its counts by reason"
    recorder.shot("check-failed-reason", shows)
    # Each hirer has its own result: the check's Partitions tab shows none as never checked.
    page.goto(f"{ui}/assets/{ASSET}?view=checks")
    page.get_by_title(check, exact=True).first.click()
    page.get_by_text("Partitions", exact=True).last.click()
    failed_hirers = len({f.partition for f in failures if f.check == check})
    expect(page.get_by_text("Missing (0)")).to_be_visible()
    expect(page.get_by_text(f"Failed ({failed_hirers})", exact=True)).to_be_visible()
    expect(page.locator("body")).to_contain_text(hirer)
    shows = f"{check}'s Partitions tab: each hirer's own result, {failed_hirers} failed, 0 missing"
    recorder.shot("check-partitions", shows)

    # (d) No page held a candidate's name or email; the same search finds what is expected.
    people = candidate_people()
    assert len(people) > 40
    at_fakes = stack.ledger_emails()  # the running sandbox's people are the ones rebuilt here
    assert at_fakes and at_fakes <= {v for k, v in people.items() if k.startswith("email ")}
    hits = search(recorder.visits, people)
    assert not hits, f"{len(hits)} personal data hit(s) in the UI:\n" + "\n".join(hits[:30])
    control = search(recorder.visits, {"hirer partition key": hirer})
    assert any(hit.startswith("run-success") for hit in control), control
    assert len(recorder.shots) >= 10 and len(recorder.visits) > len(recorder.shots)
    seconds = time.monotonic() - stack.started
    print(f"\nbrowser test: {len(recorder.visits)} pages read, {seconds:.0f} s, {artifacts}")
