"""Every Onderwijsregio limit, with the sandbox world's named edge-case files just under and just
over it: the fake refuses what is over (naming the field), and our client never sends it (a URL
instead of base64 above the data limit, a rejection with its reason over the URL limit or for a
disallowed type, batches of at most 5 per field, one candidate per create)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from seek_sync.ats.base import AtsFile
from seek_sync.ats.onderwijsregio_api import RefusedError
from seek_sync.sandbox.world_attachments import MANY_OTHERS
from tests.ats.onderwijsregio_stack import CANDIDATE, Stack, by_id, onderwijsregio_stack


def inline(stack: Stack, file: AtsFile) -> dict[str, str]:
    encoded = base64.b64encode(stack.blobs.read_bytes(file.blob_key)).decode()
    return {"filename": file.filename, "data": f"data:{file.content_type};base64,{encoded}"}


def never_sent(stack: Stack, *files: AtsFile) -> bool:
    return not any(f.filename.encode() in s.body for s in stack.writes() for f in files)


async def test_assumption_data_limit_is_5_000_000_decoded_bytes_edge_files(
    tmp_path: Path,
) -> None:
    async with onderwijsregio_stack(tmp_path, edge_cases=True) as stack:
        under, over = stack.edge_file("data_limit_under"), stack.edge_file("data_limit_over")
        over_mib = stack.edge_file("data_limit_over_mib")  # 5,242,881: over either reading
        assert (under.size, over.size, over_mib.size) == (4_999_999, 5_000_001, 5_242_881)
        cv = stack.small_file(0, "Resume")
        await stack.target.push(CANDIDATE, [cv, under, over, over_mib], None, {})
        [create] = stack.writes()
        items = {i["filename"]: i for i in create.json()[0]["otherAttachments"]}
        assert set(items[under.filename]) == {"filename", "data"}
        assert set(items[over.filename]) == set(items[over_mib.filename]) == {"filename", "url"}
        [result] = await stack.callbacks(1)
        assert result.succeeded, result.error
        stored = {u["filename"]: (u["source"], u["size"], u["sha256"]) for u in stack.fake.uploads}
        assert stored[under.filename] == ("data", under.size, under.sha256)
        assert stored[over.filename] == ("url", over.size, over.sha256)
        assert stored[over_mib.filename] == ("url", over_mib.size, over_mib.sha256)
        # The fake refuses the 5,000,001-byte file as base64 (its encoded form is ~6.7 MB: the
        # limit counts decoded bytes, so the 4,999,999-byte one above went through).
        path = f"/candidates/{result.candidate_ids[0]}/attachments"
        refused = await stack.raw.post(path, json={"otherAttachments": [inline(stack, over)]})
        assert refused.status_code == 422
        assert refused.json()["errors"] == [{
            "field": "otherAttachments[0].data",
            "message": "decoded size 5000001 bytes is over the 5000000-byte data limit",
        }]  # fmt: skip


async def test_assumption_limits_are_decimal_a_binary_setting_is_refused(tmp_path: Path) -> None:
    """Read as MiB (5,242,880), the client would inline the 5,000,001-byte file; the fake, on
    the stricter decimal reading, refuses it. Our defaults take the decimal reading."""
    binary = {"onderwijsregio_data_limit_bytes": 5 * 1024 * 1024}
    async with onderwijsregio_stack(tmp_path, edge_cases=True, **binary) as stack:
        over = stack.edge_file("data_limit_over")
        pushed = await stack.target.push(CANDIDATE, [over], None, {})
        assert "data" in stack.writes()[0].json()[0]["otherAttachments"][0]
        assert pushed.candidate.state == "failed"
        assert "5000000-byte data limit" in (pushed.candidate.error or "")
        assert by_id(pushed.uploads)["data_limit_over"].state == "failed"


async def test_assumption_url_limit_is_25_000_000_bytes_edge_files(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path, edge_cases=True) as stack:
        under, over = stack.edge_file("url_limit_under"), stack.edge_file("url_limit_over")
        over_mib = stack.edge_file("url_limit_over_mib")
        assert (under.size, over.size, over_mib.size) == (24_999_999, 25_000_001, 26_214_401)
        pushed = await stack.target.push(
            CANDIDATE, [stack.small_file(0, "Resume"), under, over, over_mib], None, {}
        )
        states = by_id(pushed.uploads)
        assert states["url_limit_under"].state == "accepted"
        for name, size in (("url_limit_over", over.size), ("url_limit_over_mib", over_mib.size)):
            assert states[name].state == "rejected"
            assert states[name].last_error == f"{size} bytes is over the 25000000-byte URL limit"
        assert never_sent(stack, over, over_mib)
        [result] = await stack.callbacks(1)
        assert result.succeeded, result.error
        [stored] = [u for u in stack.fake.uploads if u["filename"] == under.filename]
        assert (stored["source"], stored["size"], stored["sha256"]) == ("url", under.size,
                                                                        under.sha256)  # fmt: skip
        # The fake fetches a URL when the mutation runs: over the limit, the mutation fails after
        # its 202, naming the field, and nothing of it is stored.
        ok = {"filename": "ok.txt", "data": "data:text/plain;base64,aGk="}
        too_big = {
            "filename": over.filename,
            "url": stack.blobs.signed_url(over.blob_key, over.content_type),
        }
        body = {"otherAttachments": [ok, too_big]}
        headers = {"Idempotency-Key": "too-big", "x-callback-url": stack.callback_url}
        path = f"/candidates/{result.candidate_ids[0]}/attachments"
        assert (await stack.raw.post(path, json=body, headers=headers)).status_code == 202
        [failed] = [r for r in await stack.callbacks(2) if r.idempotency_key == "too-big"]
        assert not failed.succeeded and failed.error
        assert failed.error.startswith("otherAttachments[1].url")
        assert "over the 25000000-byte URL limit" in failed.error
        assert stack.fake.uploads_received("ok.txt") == 0  # all or nothing


async def test_assumption_mime_allow_list_from_seed_002_edge_files(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path / "default", edge_cases=True) as stack:
        zip_, exe = stack.edge_file("disallowed_zip"), stack.edge_file("disallowed_exe")
        assert (zip_.content_type, exe.content_type) == (
            "application/zip", "application/octet-stream")  # fmt: skip
        pushed = await stack.target.push(
            CANDIDATE, [stack.small_file(0, "Resume"), zip_, exe], None, {}
        )
        states = by_id(pushed.uploads)
        for name, file in (("disallowed_zip", zip_), ("disallowed_exe", exe)):
            assert states[name].state == "rejected"
            assert states[name].last_error == (
                f"type {file.content_type} is not on Onderwijsregio's allow-list"
            )
        assert never_sent(stack, zip_, exe)
        [result] = await stack.callbacks(1)
        path = f"/candidates/{result.candidate_ids[0]}/attachments"
        for file in (zip_, exe):
            refused = await stack.raw.post(path, json={"otherAttachments": [inline(stack, file)]})
            assert refused.status_code == 422
            assert refused.json()["errors"] == [{"field": "otherAttachments[0].data",
                "message": f"MIME type {file.content_type!r} is not allowed"}]  # fmt: skip
    # The allow-list is a setting: without PDF, a PDF resume is rejected and nothing is sent.
    only_text = {"onderwijsregio_allowed_types": ["text/plain"]}
    async with onderwijsregio_stack(tmp_path / "moved", **only_text) as stack:
        pushed = await stack.target.push(CANDIDATE, [stack.small_file(0, "Resume")], None, {})
        assert [u.state for u in pushed.uploads] == ["rejected"] and stack.writes() == []


async def test_five_files_per_field_with_the_six_others_edge_case(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path / "default", edge_cases=True) as stack:
        world = stack.sandbox.state.world
        application_id, first_id = world.edge_cases["many_others"]
        [application] = [a for a in world.applications.values()
                         if a.application_id == application_id]  # fmt: skip
        start = [a.id for a in application.attachments].index(first_id)
        records = application.attachments[start : start + MANY_OTHERS]
        others = [stack.world_file(r, f"other-{n}") for n, r in enumerate(records)]
        assert len(others) == 6 and all(f.role is None for f in others)
        cv = stack.small_file(0, "Resume")
        first = await stack.target.push(CANDIDATE, [cv, *others], None, {})
        created = await stack.target.reconcile(
            CANDIDATE, [cv, *others], first.candidate, by_id(first.uploads),
            await stack.callbacks(1))  # fmt: skip
        await stack.target.push(CANDIDATE, [cv, *others], created.candidate, by_id(created.uploads))
        create, append = stack.writes()
        assert [len(create.json()[0]["curriculumVitae"]), len(create.json()[0]["otherAttachments"])
                ] == [1, 5]  # fmt: skip
        assert append.json().keys() == {"otherAttachments"}
        assert len(append.json()["otherAttachments"]) == 1
        await stack.callbacks(2)
        assert sorted(u["filename"] for u in stack.fake.uploads) == sorted(
            f.filename for f in [cv, *others]
        )
        path = f"/candidates/{created.candidate.ats_id}/attachments"
        six = {"otherAttachments": [inline(stack, f) for f in others]}
        refused = await stack.raw.post(path, json=six)
        assert refused.status_code == 422
        assert refused.json()["errors"] == [
            {"field": "otherAttachments", "message": "at most 5 files per field"}
        ]
    # The cap is a setting: at 2, an existing candidate's six files go in three requests.
    async with onderwijsregio_stack(tmp_path / "moved", onderwijsregio_max_files_per_field=2) as st:
        person = {"firstName": "Zoë", "email": CANDIDATE.email}
        assert (await st.raw.post("/candidates", json=[person])).status_code == 202
        await st.fake.settled()
        files = [st.small_file(n) for n in range(6)]
        pushed = await st.target.push(CANDIDATE, files, None, {})
        assert pushed.candidate.state == "exists"
        assert [len(w.json()["otherAttachments"]) for w in st.writes()] == [2, 2, 2]


async def test_at_most_10_candidates_per_create_and_we_send_one(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        people = [{"firstName": f"P{n}"} for n in range(11)]
        refused = await stack.raw.post("/candidates", json=people)
        assert refused.status_code == 422
        assert refused.json()["message"] == "Validation failed: must have at most 10 items"
        assert (await stack.raw.post("/candidates", json=people[:10])).status_code == 202
        await stack.fake.settled()
        assert len(stack.fake.candidates()) == 10
        await stack.target.push(CANDIDATE, [stack.small_file(0, "Resume")], None, {})
        [create] = stack.writes()
        assert len(create.json()) == 1


async def test_assumption_at_least_one_attachment_field(tmp_path: Path) -> None:
    async with onderwijsregio_stack(tmp_path) as stack:
        person = {"firstName": "Zoë", "email": CANDIDATE.email}
        assert (await stack.raw.post("/candidates", json=[person])).status_code == 202
        await stack.fake.settled()
        [candidate] = stack.fake.candidates()
        with pytest.raises(RefusedError) as refused:
            await stack.client.add_attachments(candidate["id"], {}, key="k", callback_url=None)
        assert refused.value.status == 422
        assert "at least one of curriculumVitae or otherAttachments" in str(refused.value)
        # Our target never sends an empty request: with every file rejected, it sends nothing.
        zip_ = stack.small_file(1, None, kind="zip")
        pushed = await stack.target.push(CANDIDATE, [zip_], None, {})
        assert [u.state for u in pushed.uploads] == ["rejected"]
        assert [w.url.rsplit("/", 1)[-1] for w in stack.writes()] == ["attachments"]  # ours only
