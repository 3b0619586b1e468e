"""Settings fail fast with one line naming the bad setting, and never show secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from seek_sync.settings import SettingsError, load_settings, origin_of

GOOD = {
    "SEEK_SYNC_SEEK_CLIENT_ID": "client",
    "SEEK_SYNC_SEEK_CLIENT_SECRET": "very-secret-value",
    "SEEK_SYNC_SEEK_WEBHOOK_SECRET": "webhook-secret-of-enough-length",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for key, value in GOOD.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SEEK_SYNC_HOME", str(tmp_path))
    return monkeypatch


def test_reads_environment_with_prefix(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("SEEK_SYNC_SEEK_EVENTS_PAGE_SIZE", "50")
    settings = load_settings()
    assert settings.seek_client_id == "client"
    assert settings.seek_events_page_size == 50
    assert settings.inbox_path == tmp_path / "inbox.sqlite3"
    assert settings.blob_url == (tmp_path / "blobs").resolve().as_uri()
    assert settings.onderwijsregio_data_limit_bytes == 5_000_000


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SEEK_SYNC_SEEK_CLIENT_ID", None, "setting SEEK_SYNC_SEEK_CLIENT_ID is missing"),
        ("SEEK_SYNC_SEEK_CLIENT_SECRET", None, "setting SEEK_SYNC_SEEK_CLIENT_SECRET is missing"),
        (
            "SEEK_SYNC_SEEK_EVENTS_PAGE_SIZE",
            "101",
            "setting SEEK_SYNC_SEEK_EVENTS_PAGE_SIZE is invalid: Input should be less than or "
            "equal to 100",
        ),
        (
            "SEEK_SYNC_SEEK_GRAPHQL_URL",
            "graphql.seek.com",
            "setting SEEK_SYNC_SEEK_GRAPHQL_URL is invalid: Value error, must be an absolute "
            "http(s) URL",
        ),
        (
            "SEEK_SYNC_SEEK_WEBHOOK_SECRET",
            "short",
            "setting SEEK_SYNC_SEEK_WEBHOOK_SECRET is invalid: Value error, must be 16 to 255 "
            "bytes long",
        ),
        (
            "SEEK_SYNC_MAX_DOWNLOAD_BYTES",
            "ten",
            "setting SEEK_SYNC_MAX_DOWNLOAD_BYTES is invalid: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
    ],
)
def test_bad_setting_is_one_line_naming_it(
    env: pytest.MonkeyPatch, name: str, value: str | None, expected: str
) -> None:
    if value is None:
        env.delenv(name)
    else:
        env.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == expected
    assert "\n" not in str(caught.value)


def test_secrets_never_print(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert "very-secret-value" not in text
        assert "webhook-secret-of-enough-length" not in text


def test_token_origins_default_to_the_graphql_origin(env: pytest.MonkeyPatch) -> None:
    settings = load_settings(seek_graphql_url="https://graphql.seek.com/graphql")
    assert settings.token_origins == {"https://graphql.seek.com:443"}
    explicit = load_settings(seek_attachment_origins=["http://127.0.0.1:8000/x"])
    assert explicit.token_origins == {"http://127.0.0.1:8000"}
    assert origin_of("HTTP://Example.COM/a") == "http://example.com:80"


def test_cli_fails_at_start_with_the_one_line(env: pytest.MonkeyPatch) -> None:
    env.delenv("SEEK_SYNC_SEEK_CLIENT_ID")
    result = subprocess.run(
        [sys.executable, "-m", "seek_sync.cli", "check-settings"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "seek-sync: setting SEEK_SYNC_SEEK_CLIENT_ID is missing"
