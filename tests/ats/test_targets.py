"""The hirer → target map (YAML, credentials by env var name, unmapped hirers refused) and the
one factory that builds each mapped hirer's target."""

from __future__ import annotations

from pathlib import Path

import pytest

from seek_sync.ats.factory import AtsTargets, callback_url
from seek_sync.ats.kombo import KomboTarget
from seek_sync.ats.onderwijsregio import OnderwijsregioTarget
from seek_sync.ats.targets import (
    TargetConfigError,
    TargetKind,
    TargetMap,
    UnmappedHirerError,
)
from seek_sync.settings import load_settings

MAP = """
hirers:
  "seekAnzPublicTest:organization:seek:AAAA1111":
    target: onderwijsregio
    api_key_env: TEST_OR_KEY
    callback_secret_env: TEST_OR_CALLBACK
  "seekAnzPublicTest:organization:seek:BBBB2222":
    target: kombo
    api_key_env: TEST_KOMBO_KEY
    integration_id: "greenhouse:Abc"
    jobs: {"REQ-1": "job-one"}
    default_job_id: job-default
"""


@pytest.fixture
def target_map(tmp_path: Path) -> TargetMap:
    path = tmp_path / "hirers.yaml"
    path.write_text(MAP)
    return TargetMap.load(path)


def test_loads_targets_and_reads_credentials_by_name(
    target_map: TargetMap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_OR_KEY", "or-secret-key")
    region = target_map.for_hirer("seekAnzPublicTest:organization:seek:AAAA1111")
    assert region.target is TargetKind.ONDERWIJSREGIO
    assert region.api_key().get_secret_value() == "or-secret-key"
    assert "or-secret-key" not in repr(region.api_key())


def test_missing_credential_variable_is_named(target_map: TargetMap) -> None:
    region = target_map.for_hirer("seekAnzPublicTest:organization:seek:AAAA1111")
    with pytest.raises(TargetConfigError, match="TEST_OR_KEY is not set"):
        region.api_key()


def test_kombo_job_from_reference_or_default(target_map: TargetMap) -> None:
    kombo = target_map.for_hirer("seekAnzPublicTest:organization:seek:BBBB2222")
    assert kombo.job_for("REQ-1") == "job-one"
    assert kombo.job_for("REQ-unknown") == "job-default"
    assert kombo.job_for(None) == "job-default"


def test_unmapped_hirer_is_reported_not_guessed(target_map: TargetMap) -> None:
    with pytest.raises(UnmappedHirerError, match="no ATS target"):
        target_map.for_hirer("seekAnzPublicTest:organization:seek:ZZZZ9999")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hirers: [1, 2", "not valid YAML"),
        ("hirers: {h: {target: workday, api_key_env: X}}", "hirers.h.target"),
        ("hirers: {h: {target: kombo}}", "hirers.h.api_key_env: Field required"),
        ("hirers: {h: {target: kombo, api_key_env: X, password: p}}", "Extra inputs"),
        ("hirers: {h: {target: kombo, api_key_env: X, attachments: later}}", "attachments"),
    ],
)
def test_bad_map_gives_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "hirers.yaml"
    path.write_text(text)
    with pytest.raises(TargetConfigError, match=message):
        TargetMap.load(path)


def test_attachments_are_stored_unless_a_hirer_is_on_demand(
    target_map: TargetMap, tmp_path: Path
) -> None:
    assert target_map.on_demand() == frozenset()
    assert {t.attachments for t in target_map.hirers.values()} == {"stored"}
    path = tmp_path / "demand.yaml"
    path.write_text(MAP.replace("    default_job_id: job-default", "    attachments: on_demand"))
    assert TargetMap.load(path).on_demand() == {"seekAnzPublicTest:organization:seek:BBBB2222"}


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TargetConfigError, match="does not exist"):
        TargetMap.load(tmp_path / "nope.yaml")


class NoBlobs:
    def read_bytes(self, blob_key: str) -> bytes:
        raise AssertionError("not read while building")

    def signed_url(self, blob_key: str, content_type: str, *, now: float | None = None) -> str:
        raise AssertionError("not signed while building")


async def test_one_factory_builds_every_mapped_hirers_target(
    target_map: TargetMap, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEST_OR_KEY", "or-key")
    monkeypatch.setenv("TEST_KOMBO_KEY", "kombo-key")
    region, kombo = target_map.hirers
    settings = load_settings(seek_client_id="x", seek_client_secret="y", home=tmp_path)
    async with AtsTargets.open(settings, target_map, NoBlobs()) as targets:
        built = targets.for_hirers([region, kombo, "seekAnzPublicTest:organization:seek:CCCC"])
        assert list(built) == [region, kombo]  # an unmapped hirer has none
        assert isinstance(built[region], OnderwijsregioTarget)
        assert built[region].callback_url == callback_url(settings, region)
        assert "hirer=seekAnzPublicTest%3Aorganization" in built[region].callback_url
        assert isinstance(built[kombo], KomboTarget)
        again = targets.for_hirer(kombo)
        assert isinstance(again, KomboTarget)
        assert built[kombo].api.writes is again.api.writes is targets.kombo_writes
    async with AtsTargets.open(settings, None, NoBlobs()) as no_map:
        assert no_map.for_hirers([region, kombo]) == {}
