"""Settings fail fast with one line naming the bad setting, and never show secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from seek_sync.resources import SeekSyncResource
from seek_sync.settings import (
    PollerSettings,
    ReceiverSettings,
    Settings,
    SettingsError,
    load_poller_settings,
    load_receiver_settings,
    load_settings,
    origin_of,
)

GOOD = {
    "SEEK_SYNC_SEEK_CLIENT_ID": "client",
    "SEEK_SYNC_SEEK_CLIENT_SECRET": "very-secret-value",
    "SEEK_SYNC_SEEK_WEBHOOK_SECRET": "webhook-secret-of-enough-length",
}
PARTNER = ("seek_client_id", "seek_client_secret")


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
    for settings in (load_settings(), load_receiver_settings(), load_poller_settings()):
        for text in (repr(settings), str(settings), settings.model_dump_json()):
            assert "very-secret-value" not in text
            assert "webhook-secret-of-enough-length" not in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "setting SEEK_SYNC_SEEK_WEBHOOK_SECRET is missing"),
        (
            "short",
            "setting SEEK_SYNC_SEEK_WEBHOOK_SECRET is invalid: Value error, must be 16 to 255 "
            "bytes long",
        ),
    ],
)
def test_the_receiver_needs_its_webhook_secret(
    env: pytest.MonkeyPatch, value: str | None, expected: str
) -> None:
    if value is None:
        env.delenv("SEEK_SYNC_SEEK_WEBHOOK_SECRET")
    else:
        env.setenv("SEEK_SYNC_SEEK_WEBHOOK_SECRET", value)
    with pytest.raises(SettingsError) as caught:
        load_receiver_settings()
    assert str(caught.value) == expected
    load_settings()  # neither the run steps nor the poller read it
    load_poller_settings()


def test_each_role_reads_only_its_own_settings(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SEEK_SYNC_SEEK_CLIENT_ID", "SEEK_SYNC_SEEK_CLIENT_SECRET"):
        env.delenv(name)
    receiver = load_receiver_settings()  # no partner credential needed, and no field for one
    assert receiver.inbox_path == tmp_path / "inbox.sqlite3"
    assert receiver.blob_url == (tmp_path / "blobs").resolve().as_uri()
    assert not set(ReceiverSettings.model_fields) & {*PARTNER, "kombo_url", "warehouse_path"}
    with pytest.raises(SettingsError, match="SEEK_SYNC_SEEK_CLIENT_ID is missing"):
        load_poller_settings()
    poller = set(PollerSettings.model_fields)
    assert {*PARTNER, "inbox_path", "poll_time_budget_seconds", "retry_max_attempts"} <= poller
    assert not poller & {"seek_webhook_secret", "blob_signing_secret", "warehouse_path"}
    run = set(Settings.model_fields)
    assert {*PARTNER, "warehouse_path", "ats_max_sends", "blob_signing_secret"} <= run
    assert not run & {"seek_webhook_secret", "onderwijsregio_callback_secret"}
    every = run | poller | set(ReceiverSettings.model_fields)
    assert not every & {"onderwijsregio_api_key", "kombo_api_key"}  # keys come per hirer


def test_check_settings_of_the_receiver_role_needs_no_partner_credential(
    tmp_path: Path,
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "SEEK_SYNC_HOME": str(tmp_path),
        "SEEK_SYNC_SEEK_WEBHOOK_SECRET": "webhook-secret-of-enough-length",
    }
    command = [sys.executable, "-m", "seek_sync.cli", "check-settings", "--role"]
    result = subprocess.run(
        [*command, "receiver"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "seek_webhook_secret = **********" in result.stdout
    assert "seek_client" not in result.stdout and "webhook-secret-of" not in result.stdout
    run = subprocess.run([*command, "run"], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 2
    assert run.stderr.strip() == "seek-sync: setting SEEK_SYNC_SEEK_CLIENT_ID is missing"


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


def test_the_resource_resolves_its_settings_once_per_initialisation(
    env: pytest.MonkeyPatch,
) -> None:
    with dg.build_resources({"seek_sync": SeekSyncResource()}) as resources:
        resource = resources.seek_sync
        first = resource.settings()
        env.setenv("SEEK_SYNC_SEEK_CLIENT_ID", "changed")  # read once: not seen until next init
        assert resource.settings() is first and first.seek_client_id == "client"
        assert "very-secret-value" not in repr(resource) and "_settings" not in str(
            resource.model_dump()
        )
    with dg.build_resources({"seek_sync": SeekSyncResource()}) as resources:
        assert resources.seek_sync.settings().seek_client_id == "changed"


def test_paths_default_under_home_and_each_has_its_own_variable(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = load_settings(home=tmp_path / "other")  # as `SeekSyncResource(home=...)` does
    assert settings.inbox_path == tmp_path / "other" / "inbox.sqlite3"
    assert settings.warehouse_path == tmp_path / "other" / "warehouse.duckdb"
    assert settings.blob_url == (tmp_path / "other" / "blobs").resolve().as_uri()
    env.setenv("SEEK_SYNC_INBOX_PATH", str(tmp_path / "in.sqlite3"))
    env.setenv("SEEK_SYNC_WAREHOUSE_PATH", str(tmp_path / "wh.duckdb"))
    env.setenv("SEEK_SYNC_BLOB_URL", "file:///srv/seek-sync/blobs")
    settings = load_settings()
    assert settings.inbox_path == tmp_path / "in.sqlite3"
    assert settings.warehouse_path == tmp_path / "wh.duckdb"
    assert settings.blob_url == "file:///srv/seek-sync/blobs"
    # Typed as what they always are once loaded (no `None` for callers to rule out).
    fields = Settings.model_fields
    assert (fields["inbox_path"].annotation, fields["blob_url"].annotation) == (Path, str)
    assert fields["warehouse_path"].annotation is Path
