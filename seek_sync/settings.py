"""Settings by role: each process validates only the `SEEK_SYNC_*` variables it uses.

- `ReceiverSettings` (`seek-sync receiver serve`): the webhook and callback secrets, the blob
  signing secret, the inbox and the blobs. It has no field for SEEK's partner credentials, so the
  receiver starts, and runs, without them in its environment.
- `PollerSettings` (`seek-sync poll`): SEEK's credentials and URLs, HTTP and retries, the inbox and
  the poll's budget and interval.
- `Settings` (run steps, sensor ticks, `seek-sync sync`, the benchmark's library path): everything
  the pipeline uses; no webhook or callback secret.

Each role composes field groups (`SeekFields`, `HttpFields`, ...). A missing or invalid value fails
at start with one line naming the environment variable; secrets are `SecretStr`, never printed.

Any setting may instead be a file named as its variable in the directory `SEEK_SYNC_SECRETS_DIR`
(pydantic-settings' `secrets_dir`: what a Kubernetes secret volume or systemd's credentials give;
the file's content, stripped of surrounding whitespace, is the value; a variable set in the
environment wins). The variables the hirer map names (ATS keys, callback secrets) are read the same
way (`secret_value`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SEEK_SYNC_"
SECRETS_DIR_ENV = f"{ENV_PREFIX}SECRETS_DIR"  # a directory of files named as the variables
URL_FIELDS = (
    "seek_token_url", "seek_graphql_url", "seek_browser_token_url", "onderwijsregio_url",
    "kombo_url", "receiver_public_url",
)  # fmt: skip

# Onderwijsregio's MIME allow-list for attachments, as seed 002 publishes it.
# fmt: off
SEED_002_ALLOWED_TYPES = (
    "image/png", "image/jpeg", "image/webp", "image/gif", "image/heic", "image/heif",
    "application/pdf", "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text", "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "text/plain", "text/markdown", "text/csv", "application/rtf",
    "application/json", "application/xml",
)
# fmt: on


class SettingsError(ValueError):
    """A setting is missing or invalid; the message is one line naming it."""


def origin_of(url: str) -> str:
    """`scheme://host:port` of a URL, with the default port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"https": 443, "http": 80}.get(scheme)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    return value


class SettingsBase(BaseSettings):
    """The environment prefix and behaviour every group shares."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", validate_default=True, frozen=True
    )

    @field_validator(*URL_FIELDS, check_fields=False)  # each group's own URLs
    @classmethod
    def _urls(cls, value: str) -> str:
        return _http_url(value)


def _under_home(name: str) -> Any:
    """A path field's default: `name` under the `home` field (declared before it)."""
    return Field(default_factory=lambda data: data["home"] / name)


class HomeFields(SettingsBase):
    """Where state lives: the inbox every process writes (default under `home`), or a server.

    With `database_url` set (a `postgresql+psycopg://` URL, a secret: it may hold a password), the
    inbox, the run state and the warehouse live in that database's `database_schema` instead."""

    home: Path = Path(".seek-sync")
    inbox_path: Path = _under_home("inbox.sqlite3")
    database_url: SecretStr | None = None
    database_schema: str = Field(default="seek_sync", pattern=r"^[a-z_][a-z0-9_]{0,47}$")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("postgresql+psycopg://"):
            raise ValueError("must be a postgresql+psycopg:// URL (the driver named)")
        return value


class BlobFields(HomeFields):
    """The blob store and the key of its signed URLs (no secret: every blob URL is refused)."""

    blob_url: str = Field(default_factory=lambda data: (data["home"] / "blobs").resolve().as_uri())
    blob_signing_secret: SecretStr | None = None
    s3_endpoint_url: str | None = None  # an S3-compatible endpoint for `s3://` blob URLs


class WarehouseFields(HomeFields):
    """The embedded warehouse file (unused when `database_url` puts the warehouse on a server)."""

    warehouse_path: Path = _under_home("warehouse.duckdb")


class HirerMapFields(SettingsBase):
    hirer_targets_path: Path | None = None


class SeekFields(SettingsBase):
    """SEEK's partner credentials, URLs and the client's limits."""

    seek_token_url: str = "https://auth.seek.com/oauth/token"
    seek_graphql_url: str = "https://graphql.seek.com/graphql"
    seek_browser_token_url: str = "https://graphql.seek.com/auth/token"
    seek_client_id: str = Field(min_length=1)
    seek_client_secret: SecretStr
    seek_audience: str = "https://graphql.seek.com"
    seek_scheme_id: str = "seekAnz"
    # Origins (scheme://host:port) the partner token may be sent to; empty means the GraphQL origin.
    seek_attachment_origins: list[str] = Field(default_factory=list)
    seek_token_refresh_margin_seconds: float = Field(default=60.0, ge=0)
    seek_events_page_size: int = Field(default=100, ge=1, le=100)
    seek_profile_concurrency: int = Field(default=8, ge=1, le=64)
    seek_download_concurrency: int = Field(default=4, ge=1, le=64)
    max_download_bytes: int = Field(default=50_000_000, ge=1)

    @field_validator("seek_attachment_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [origin_of(_http_url(v)) for v in value]

    @property
    def token_origins(self) -> frozenset[str]:
        """Origins allowed to receive the partner token."""
        return frozenset(self.seek_attachment_origins or [origin_of(self.seek_graphql_url)])


class HttpFields(SettingsBase):
    """HTTP behaviour shared by every client: timeouts and the retry policy."""

    http_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    http_read_timeout_seconds: float = Field(default=60.0, gt=0)
    retry_max_attempts: int = Field(default=5, ge=1, le=20)
    retry_initial_backoff_seconds: float = Field(default=0.5, ge=0)
    retry_max_backoff_seconds: float = Field(default=30.0, ge=0)
    retry_deadline_seconds: float = Field(default=120.0, gt=0)


class SeekClientSettings(SeekFields, HttpFields):
    """What a `SeekClient` reads; both the poller's and the run steps' settings have it."""


class PollFields(SettingsBase):
    poll_time_budget_seconds: float = Field(default=40.0, gt=0, lt=60)
    poll_interval_seconds: float = Field(default=60.0, gt=0)


class ReceiverFields(SettingsBase):
    """The keys the receiver checks signatures with."""

    seek_webhook_secret: SecretStr
    onderwijsregio_callback_secret: SecretStr | None = None  # hirers without callback_secret_env
    onderwijsregio_callback_tolerance_seconds: float = Field(default=300.0, gt=0)

    @field_validator("seek_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr) -> SecretStr:
        # SEEK requires signing secrets of 16 to 255 bytes.
        if not 16 <= len(value.get_secret_value().encode()) <= 255:
            raise ValueError("must be 16 to 255 bytes long")
        return value


class RunFields(SettingsBase):
    """Run model: how runs share out hirers, and when owed work is due again."""

    # Inside a sensor tick the poll shares Dagster's 60 s limit with the tick's own work.
    sensor_poll_budget_seconds: float = Field(default=15.0, gt=0, lt=45)
    hirers_per_run: int = Field(default=50, ge=1, le=1000)  # hirers one run covers at most
    hirer_items_per_run: int = Field(default=500, ge=1)  # per stage, so no hirer starves others
    runs_per_tick: int = Field(default=8, ge=1)  # runs one tick requests at most
    ats_confirm_timeout_seconds: float = Field(default=600.0, gt=0)  # then an upload is read back
    # A run waits this long for the callbacks of the sends it made, to apply them itself (a
    # callback that comes later waits for the hirer's next run); 0: never wait.
    ats_callback_wait_seconds: float = Field(default=2.0, ge=0, le=30)
    ats_max_sends: int = Field(default=5, ge=1, le=20)  # sends of one file before it is `failed`
    work_retry_base_seconds: float = Field(default=30.0, ge=0)  # failed items: doubling backoff
    work_retry_max_seconds: float = Field(default=3600.0, ge=0)
    lease_stale_seconds: float = Field(default=120.0, gt=0)  # a holder on another host is dead
    lease_reservation_seconds: float = Field(default=600.0, gt=0)  # a queued run's reservation
    sync_interval_seconds: float = Field(default=30.0, gt=0)  # between ticks of `sync --loop`
    # The `uploads_settle_in_time` check warns once a stored file waits this long.
    unsettled_upload_warn_hours: float = Field(default=6.0, gt=0)
    # SEEK publishes no event when it deletes a candidate or an application: stored profiles are
    # re-read, oldest check first, at most this many per run, each at most once per interval.
    redaction_recheck_per_run: int = Field(default=500, ge=1)
    redaction_recheck_hours: float = Field(default=24.0, gt=0)
    # Also delete what we sent to the ATS when SEEK deletes it (Onderwijsregio only: Kombo's API
    # has no attachment delete).
    ats_delete_on_seek_deletion: bool = False


class SensorFields(SettingsBase):
    """How often the daemon evaluates the sensor: the one setting read when the code location
    loads (`seek_sync/sensors.py`), so it is validated on its own."""

    sensor_interval_seconds: int = Field(default=30, ge=5, le=3600)


class OnderwijsregioFields(SettingsBase):
    """Onderwijsregio v2 (the API key is named per hirer in the hirer map)."""

    onderwijsregio_url: str = "https://onderwijsregio.onderwijsin.nl/api/v2"
    # Unconfirmed limits (seed 002): the stricter decimal reading is the default.
    onderwijsregio_data_limit_bytes: int = Field(default=5_000_000, ge=1)
    onderwijsregio_url_limit_bytes: int = Field(default=25_000_000, ge=1)
    onderwijsregio_max_files_per_field: int = Field(default=5, ge=1)
    # Unconfirmed (ats-apis.md): does re-sending a failed mutation's key run it again (True), or
    # does the key keep its failed result so that only a fresh key re-sends (False, the default)?
    onderwijsregio_failed_key_reruns: bool = False
    # Unconfirmed wire details (ats-apis.md marks them [?]), listed in docs/ats.md.
    onderwijsregio_filename_field: str = "filename"
    onderwijsregio_data_field: str = "data"
    onderwijsregio_url_field: str = "url"
    onderwijsregio_idempotency_header: str = "Idempotency-Key"
    onderwijsregio_callback_url_header: str = "x-callback-url"
    onderwijsregio_delete_field: str = "attachmentIds"
    onderwijsregio_allowed_types: list[str] = Field(
        default_factory=lambda: list(SEED_002_ALLOWED_TYPES)
    )


class KomboFields(SettingsBase):
    """Kombo (the API key is named per hirer in the hirer map)."""

    kombo_url: str = "https://api.kombo.dev/v1"
    kombo_integration_id: str | None = None
    # Writes in flight per integration: well under Kombo's documented cap of 30 (docs/ats.md).
    kombo_write_concurrency: int = Field(default=8, ge=1, le=30)
    # Files up to this size travel inline as base64 `data`; bigger ones as a signed `data_url`.
    kombo_data_limit_bytes: int = Field(default=10_000_000, ge=1)


class ReceiverLinkFields(SettingsBase):
    """How a run step points an ATS at the receiver: callback URLs and signed blob URLs."""

    receiver_public_url: str = "http://127.0.0.1:8701"
    signed_url_ttl_seconds: int = Field(default=900, ge=1, le=86_400)


class ProxyLinkFields(SettingsBase):
    """How a run step points an ATS at the attachment proxy (hirers on demand): the proxy's
    public URL and the key its URLs are signed with (the proxy's own key)."""

    proxy_public_url: str | None = None
    proxy_signing_secret: SecretStr | None = None
    proxy_url_ttl_seconds: int = Field(default=900, ge=1, le=86_400)

    @field_validator("proxy_signing_secret")
    @classmethod
    def _proxy_key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 bytes long")
        return value


class RetentionFields(SettingsBase):
    """How long seek-sync keeps what it holds, in days (docs/personal-data.md): job `retention`."""

    retention_file_days_after_confirmed: float = Field(default=30.0, ge=0)  # the ATS holds it
    retention_profile_days: float = Field(default=180.0, ge=0)  # from the application's creation
    retention_inbox_days: float = Field(default=30.0, ge=0)  # consumed events and callbacks
    retention_run_history_days: float = Field(default=90.0, ge=0)  # finished Dagster runs
    retention_removed_hirer_grace_days: float = Field(default=30.0, ge=0)  # then purged whole
    # Applications one retention run purges at most (oldest first), in one purge: the inbox's
    # deletion binds one SQLite variable per id (at most 32,766).
    retention_profiles_per_run: int = Field(default=20_000, ge=1, le=30_000)


class ReceiverSettings(ReceiverFields, HirerMapFields, BlobFields):
    """`seek-sync receiver serve`: no SEEK partner credential, no ATS key."""


class PollerSettings(SeekClientSettings, PollFields, HomeFields):
    """`seek-sync poll`."""


class Settings(
    SeekClientSettings,
    RunFields,
    SensorFields,
    RetentionFields,
    OnderwijsregioFields,
    KomboFields,
    ReceiverLinkFields,
    ProxyLinkFields,
    HirerMapFields,
    BlobFields,
    WarehouseFields,
):
    """Run steps, sensor ticks and `seek-sync sync`: everything the pipeline uses."""


ROLES: dict[str, type[SettingsBase]] = {
    "receiver": ReceiverSettings,
    "poller": PollerSettings,
    "run": Settings,
}
_S = TypeVar("_S", bound=SettingsBase)


def env_names(model: type[SettingsBase]) -> frozenset[str]:
    """The environment variables `model` reads, e.g. `SEEK_SYNC_INBOX_PATH`, and the secrets
    directory every role may read them from."""
    return frozenset(ENV_PREFIX + name.upper() for name in model.model_fields) | {SECRETS_DIR_ENV}


def secrets_dir() -> Path | None:
    """`SEEK_SYNC_SECRETS_DIR` (None when unset); `SettingsError` when it is not a directory."""
    value = os.environ.get(SECRETS_DIR_ENV)
    if not value:
        return None
    if not Path(value).is_dir():
        raise SettingsError(f"setting {SECRETS_DIR_ENV} is invalid: {value} is not a directory")
    return Path(value)


def secret_value(name: str) -> str | None:
    """The variable `name` from the environment, else the file `name` in the secrets directory
    (stripped, as pydantic-settings reads it); None when neither holds a value."""
    value = os.environ.get(name)
    folder = secrets_dir()
    if value or folder is None or "/" in name or name.startswith("."):
        return value or None
    path = folder / name
    return (path.read_text(encoding="utf-8").strip() or None) if path.is_file() else None


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    name = ENV_PREFIX + "_".join(str(p) for p in first["loc"] if isinstance(p, str)).upper()
    if first["type"] == "missing":
        return f"setting {name} is missing"
    return f"setting {name} is invalid: {first['msg']}"


def load(model: type[_S], **overrides: Any) -> _S:
    """Read one role's settings, raising `SettingsError` with one line naming the first bad one."""
    try:
        return model(_secrets_dir=secrets_dir(), **overrides)
    except ValidationError as error:
        raise SettingsError(_one_line(error)) from None


def load_settings(**overrides: Any) -> Settings:
    """The run steps' settings."""
    return load(Settings, **overrides)


def load_receiver_settings(**overrides: Any) -> ReceiverSettings:
    return load(ReceiverSettings, **overrides)


def load_poller_settings(**overrides: Any) -> PollerSettings:
    return load(PollerSettings, **overrides)
