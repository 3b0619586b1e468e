"""The Dagster UI of `seek-sync dev`, in Debian's Chromium driven by Playwright.

One walk through the UI of a fresh stack (the sensor starts the first runs by itself): the asset
lineage and catalog show the assets with their descriptions (taken from the `Definitions`), a run
of one hirer launched from the `hirer_sync` job's materialize dialog succeeds, no check of
`ats_uploads` fails for refusals final by design while its metadata and the events tab still show
them by reason, a purge by the CLI in a second shell is listed on the `purge` job's Runs tab and
leaves the hirer's latest `ats_uploads` row count equal to the warehouse's, the `retention`
Launchpad opens on `dry_run: true` and the dry run it launches is tagged as one in the runs list,
the start logged no warning, and no page visited holds a sandbox candidate's name or email. The
pages that list hirers and checks (the asset's partitions, checks and events, a check's
partitions, the runs list) show every hirer key and check name whole at 1,600 px
(`readable.py`). Screenshots of each page land in `test-artifacts/browser/` (see
`visits.artifacts_dir`).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from seek_sync.assets.checks import CHECKS
from seek_sync.assets.dry_runs import DRY_RUN_TAG
from seek_sync.jobs import hirer_sync
from tests.browser.dev_stack import ACTIVE, DevStack
from tests.browser.readable import assert_readable
from tests.browser.readable import control as cut_control
from tests.browser.ui_helpers import (
    any_of,
    description_line,
    read_run_log,
    show_reason,
    skip_welcome,
)
from tests.browser.visits import Recorder, candidate_people, search

pytestmark = pytest.mark.browser
BUDGET_SECONDS = 180  # the whole test, stack start and stop included
ASSET = "ats_uploads"  # the asset whose checks count refused uploads by reason
CHECK = "no_upload_needs_action"


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
    hirer_of = {key: hirer_id for hirer_id, key in stack.hirer_keys().items()}
    assert sorted(hirer_of) == sorted(partitions)
    kombo = sorted(k for k in partitions if targets.get(hirer_of[k]) == "kombo")
    hirer = (kombo or sorted(partitions))[0]  # Kombo settles in one pass: no callback due later
    checks = {c.name: c.asset for c in CHECKS}
    names = [*partitions, *checks, *described]  # hirer keys, check and asset names

    def readable(where: str, whole: list[str]) -> None:
        assert_readable(page, names, whole=whole, where=where)

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
    readable("materialize dialog", whole=[hirer])  # the selected partition's 100-px tag
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
    cut_control(page, hirer)  # the reader sees a key cut by CSS or in the middle
    readable("runs list", whole=[hirer])  # the launched run's `dagster/partition` tag
    # A second shell purges one candidate of another hirer while the browser goes on
    # (after the run: a purge rewrites the warehouse under an exclusive lock).
    purged_hirer = next(k for k in sorted(partitions) if k != hirer)
    purged_id = hirer_of[purged_hirer]  # the CLI and the warehouse know the SEEK id
    # Counted by the purged candidate's own uploads: the sensor may still sync the hirer's later
    # applications meanwhile (its first runs were done, not every run it will start).
    uploaded = stack.warehouse(
        "SELECT p.candidate_id, u.attachment_id FROM candidate_profiles p"
        " JOIN attachment_manifest m ON m.profile_id = p.profile_id"
        " JOIN ats_uploads u ON u.attachment_id = m.attachment_id"
        " WHERE p.hirer_id = ? ORDER BY 1, 2",
        purged_id,
    )
    candidate = uploaded[0][0]
    purged_files = [attachment for who, attachment in uploaded if who == candidate]
    purge = stack.seek_sync("purge", "--candidate", candidate, "--hirer", purged_id)

    # (c) Refusals final by design (the sandbox's executable, archive, oversized file) fail no
    # check: the latest evaluation of every hirer passes, its counts still name them by reason.
    latest: dict[str, dict[str, Any]] = {}
    for execution in stack.evaluations(ASSET, CHECK):  # newest first
        latest.setdefault(execution["partition"], execution)
    assert set(latest) >= set(partitions), (set(partitions) - set(latest), CHECK)
    red = [h for h, e in latest.items() if not e["passed"]]
    assert red == [], stack.fail(f"{CHECK} failing for {red}: {[latest[h] for h in red]}")
    counts = {h: json.loads(e["metadata"]["counts"]) for h, e in latest.items()}
    final = {h: [k for k in c if ", final): " in k] for h, c in counts.items()}
    shown = " ".join(k for keys in final.values() for k in keys)
    assert "(executable, final)" in shown and "(archive, final)" in shown, counts
    refused = max(final, key=lambda h: len(final[h]))  # the hirer with the most final refusals
    page.goto(f"{ui}/assets/{ASSET}")
    expect(page.get_by_text(described[ASSET], exact=True).first).to_be_visible()
    recorder.shot("ats-uploads-overview", f"{ASSET}'s overview: description, latest check results")
    page.goto(f"{ui}/assets/{ASSET}?view=partitions")
    for key in partitions:
        expect(page.get_by_text(key, exact=True).first).to_be_visible()
    recorder.shot("ats-uploads-partitions", f"{ASSET}'s partitions: every hirer key whole")
    readable("partitions tab", whole=partitions)
    page.goto(f"{ui}/assets/{ASSET}?view=events")
    page.get_by_text(refused, exact=True).first.click()
    expect(
        page.get_by_text(re.compile(f"Partition {re.escape(refused)} materialized"))
    ).to_be_visible()
    table = page.get_by_text(any_of([k.split("): ", 1)[1] for k in final[refused]])).first
    expect(table).to_be_visible()
    table.scroll_into_view_if_needed()
    shows = f"{ASSET}'s events: {refused}'s materialization, its not_sent table (column final)"
    recorder.shot("ats-uploads-not-sent", shows)
    readable("events tab", whole=[refused])
    page.goto(f"{ui}/assets/{ASSET}?view=checks")
    entry = page.get_by_title(CHECK, exact=True).first.locator("xpath=..")  # name + status
    expect(entry).not_to_contain_text("Failed")
    entry.click()
    expect(page.get_by_text("Latest execution")).to_be_visible()
    recorder.shot("ats-uploads-checks", f"{ASSET}'s checks tab: {CHECK} not failing")
    readable("checks tab", whole=[c for c, a in checks.items() if a == ASSET])
    page.get_by_text("Execution history", exact=True).click()
    show_reason(page, refused, hirer_of[refused], set(final[refused]), status="Passed|Succeeded")
    shows = f"{CHECK}'s execution history: {refused} passed, its final refusals by reason"
    recorder.shot("check-final-refusals", shows)
    # The check's partitions once nothing is in flight: a run (the purge's too) logs its
    # materializations first and their check evaluations after, and in between the UI counts
    # that hirer "Missing" (CI caught the purge there).
    _, err = purge.communicate(timeout=60)
    assert purge.returncode == 0, stack.fail(f"seek-sync purge failed: {err}")
    stack.wait(
        "no run in flight", 60, lambda: not any(r["status"] in ACTIVE for r in stack.runs()) or None
    )
    page.goto(f"{ui}/assets/{ASSET}?view=checks")
    page.get_by_title(CHECK, exact=True).first.click()
    page.get_by_text("Partitions", exact=True).last.click()
    expect(page.locator("body")).to_contain_text(refused)
    recorder.shot("check-partitions", f"{CHECK}'s Partitions tab: every hirer checked, none failed")
    readable("check's partitions tab", whole=partitions)
    for state in ("Failed", "Missing"):  # a status with hirers in it is listed as "Failed (n)"
        expect(page.get_by_text(re.compile(f"^{state} \\([1-9]\\d*\\)$"))).to_have_count(0)

    # (e) The CLI's purge is listed under the `purge` job; the hirer's latest totals after it
    # are the warehouse's.
    [purge_run] = [r["runId"] for r in stack.runs() if r["jobName"] == "purge"]
    page.goto(f"{ui}/locations/{location}/jobs/purge/runs")
    expect(page.get_by_text(purge_run[:8]).first).to_be_visible()
    expect(page.get_by_text("You have not launched any runs")).to_have_count(0)
    recorder.shot("purge-job-runs", f"the purge job's Runs tab: the CLI's purge {purge_run[:8]}")
    _, shown_rows = stack.latest_row_count(ASSET, purged_hirer)
    [(held,)] = stack.warehouse(f"SELECT COUNT(*) FROM {ASSET} WHERE hirer_id = ?", purged_id)
    marks = ", ".join("?" * len(purged_files))
    [(left,)] = stack.warehouse(
        f"SELECT COUNT(*) FROM {ASSET} WHERE attachment_id IN ({marks})", *purged_files
    )
    assert shown_rows == held and left == 0, (shown_rows, held, purged_files, left)
    page.goto(f"{ui}/assets/{ASSET}?view=events")
    page.get_by_text(purged_hirer, exact=True).first.click()
    expect(page.get_by_text(f"materialized in run {purge_run[:8]}").first).to_be_visible()
    shows = f"{ASSET}'s events: {purged_hirer}'s latest totals ({held} rows) from the purge run"
    recorder.shot("totals-after-purge", shows)

    # (f) The retention Launchpad opens on a dry run; launched, the runs list marks it as one.
    page.goto(f"{ui}/locations/{location}/jobs/retention/playground")
    scaffold = page.get_by_role("button", name=re.compile("Scaffold"))
    if scaffold.count():
        scaffold.first.click()
    expect(page.locator("body")).to_contain_text(re.compile(r"dry_run:\s*true"))
    recorder.shot("retention-launchpad", "the retention Launchpad: dry_run: true by default")
    before = {run["runId"] for run in stack.runs()}
    page.get_by_role("button", name="Launch Run").click()

    def dry_run_done() -> str | None:
        for run in stack.runs():
            tags = {tag["key"]: tag["value"] for tag in run["tags"]}
            if run["runId"] not in before and run["jobName"] == "retention":
                done = run["status"] not in ACTIVE and tags.get(DRY_RUN_TAG) == "true"
                return str(run["runId"]) if done else None
        return None

    dry_run = stack.wait("the retention dry run", 60, dry_run_done)
    page.goto(f"{ui}/runs")
    expect(page.get_by_text(dry_run[:8]).first).to_be_visible()
    expect(page.get_by_text(f"{DRY_RUN_TAG}: true").first).to_be_visible()  # the only dry run
    recorder.shot("runs-list-dry-run", f"runs list: the retention dry run {dry_run[:8]} tagged")
    readable("runs list", whole=[hirer])
    page.goto(f"{ui}/assets/attachment_files?view=checks")
    files_checks = [c for c, a in checks.items() if a == "attachment_files"]
    for name in files_checks:
        expect(page.get_by_text(name, exact=True).first).to_be_visible()
    recorder.shot("attachment-files-checks", "attachment_files' checks tab: every name whole")
    readable("checks tab", whole=files_checks)
    # A clean start logged no warning: no BetaWarning, no superseded `dagster dev`, no ignored
    # dagster.yaml (a run's own warnings are not the start's).
    started = stack.log.read_text(errors="replace")
    assert not re.search(r"BetaWarning|SupersessionWarning|will not be used to configure", started)

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
