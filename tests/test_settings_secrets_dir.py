"""Settings read from files: `SEEK_SYNC_SECRETS_DIR` laid out as Kubernetes mounts a secret
volume (each key a symlink through `..data` to a timestamped directory), values with the trailing
newline `echo` leaves, the environment winning over a file, the hirer map's named credentials
read the same way, and `check-settings` never printing a value that came from a file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from seek_sync.ats.targets import TargetMap
from seek_sync.settings import SECRETS_DIR_ENV, SettingsError, load_receiver_settings, load_settings

WEBHOOK = "webhook-secret-from-a-file-0123"
CLIENT_SECRET = "client-secret-from-a-file"
DATABASE_URL = "postgresql+psycopg://seek_run:pa55-from-a-file@db.internal:5432/seek"
ATS_KEY = "ats-key-from-a-file"


def secret_volume(folder: Path, values: dict[str, str]) -> Path:
    """A directory as the kubelet writes a secret volume: `KEY -> ..data/KEY`,
    `..data -> ..2026_01_01_00_00_00.1`, the files in the timestamped directory."""
    stamped = folder / "..2026_01_01_00_00_00.1"
    stamped.mkdir(parents=True)
    for name, value in values.items():
        (stamped / name).write_text(value + "\n", encoding="utf-8")
        (folder / name).symlink_to(Path("..data") / name)
    (folder / "..data").symlink_to(stamped.name)
    return folder


@pytest.fixture
def volume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("SEEK_SYNC_"):
            monkeypatch.delenv(name)
    values = {
        "SEEK_SYNC_SEEK_WEBHOOK_SECRET": WEBHOOK,
        "SEEK_SYNC_SEEK_CLIENT_SECRET": CLIENT_SECRET,
        "SEEK_SYNC_DATABASE_URL": DATABASE_URL,
        "SEEK_SYNC_OR_A_API_KEY": ATS_KEY,
    }
    folder = secret_volume(tmp_path / "secrets", values)
    monkeypatch.setenv(SECRETS_DIR_ENV, str(folder))
    monkeypatch.setenv("SEEK_SYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SEEK_SYNC_SEEK_CLIENT_ID", "client")
    return folder


def test_settings_come_from_the_files_and_the_environment_wins(
    volume: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = load_receiver_settings()
    assert receiver.seek_webhook_secret.get_secret_value() == WEBHOOK  # newline stripped
    assert receiver.database_url is not None
    assert receiver.database_url.get_secret_value() == DATABASE_URL
    run = load_settings()
    assert run.seek_client_secret.get_secret_value() == CLIENT_SECRET
    monkeypatch.setenv("SEEK_SYNC_SEEK_CLIENT_SECRET", "from-the-environment")
    assert load_settings().seek_client_secret.get_secret_value() == "from-the-environment"


def test_a_bad_value_or_directory_is_one_line(
    volume: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (volume / "..2026_01_01_00_00_00.1" / "SEEK_SYNC_SEEK_WEBHOOK_SECRET").write_text("short\n")
    with pytest.raises(SettingsError, match=r"^setting SEEK_SYNC_SEEK_WEBHOOK_SECRET is invalid"):
        load_receiver_settings()
    monkeypatch.setenv(SECRETS_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(SettingsError) as caught:
        load_receiver_settings()
    assert (
        str(caught.value)
        == f"setting {SECRETS_DIR_ENV} is invalid: {tmp_path / 'missing'} is not a directory"
    )


def test_the_hirer_maps_credentials_come_from_the_files(volume: Path, tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text(
        'hirers:\n  "seekAnzPublicTest:organization:seek:AAAA1111":\n'
        "    target: onderwijsregio\n    api_key_env: SEEK_SYNC_OR_A_API_KEY\n"
        "    callback_secret_env: SEEK_SYNC_OR_A_CALLBACK_SECRET\n",
        encoding="utf-8",
    )
    entry = TargetMap.load(path).for_hirer("seekAnzPublicTest:organization:seek:AAAA1111")
    assert entry.api_key().get_secret_value() == ATS_KEY
    with pytest.raises(ValueError, match="SEEK_SYNC_OR_A_CALLBACK_SECRET is not set"):
        entry.secret(entry.callback_secret_env)  # in neither place: refused, as before


@pytest.mark.parametrize("role", ["receiver", "run"])
def test_check_settings_masks_what_came_from_a_file(volume: Path, role: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seek_sync.cli", "check-settings", "--role", role],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "database_url = **********" in result.stdout  # positive control: it was read
    masked = "seek_webhook_secret" if role == "receiver" else "seek_client_secret"
    assert f"{masked} = **********" in result.stdout
    for value in (WEBHOOK, CLIENT_SECRET, "pa55-from-a-file", ATS_KEY):
        assert value not in result.stdout + result.stderr
