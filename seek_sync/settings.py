"""The one settings model: every URL, credential, limit and path seek-sync uses.

Values come from `SEEK_SYNC_*` environment variables (or keyword overrides). A missing or invalid
value fails at start with one line that names the environment variable; secrets are `SecretStr`
so they never print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SEEK_SYNC_"

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


class Settings(BaseSettings):
    """Everything seek-sync reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", validate_default=True, frozen=True
    )

    # --- SEEK -----------------------------------------------------------------------------
    seek_token_url: str = "https://auth.seek.com/oauth/token"
    seek_graphql_url: str = "https://graphql.seek.com/graphql"
    seek_client_id: str = Field(min_length=1)
    seek_client_secret: SecretStr
    seek_audience: str = "https://graphql.seek.com"
    seek_scheme_id: str = "seekAnz"
    seek_webhook_secret: SecretStr
    # Origins (scheme://host:port) the partner token may be sent to; empty means the GraphQL origin.
    seek_attachment_origins: list[str] = Field(default_factory=list)
    seek_token_refresh_margin_seconds: float = Field(default=60.0, ge=0)
    seek_events_page_size: int = Field(default=100, ge=1, le=100)
    seek_profile_concurrency: int = Field(default=8, ge=1, le=64)
    seek_download_concurrency: int = Field(default=4, ge=1, le=64)
    max_download_bytes: int = Field(default=50_000_000, ge=1)

    # --- HTTP behaviour shared by every client ----------------------------------------------
    http_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    http_read_timeout_seconds: float = Field(default=60.0, gt=0)
    retry_max_attempts: int = Field(default=5, ge=1, le=20)
    retry_initial_backoff_seconds: float = Field(default=0.5, ge=0)
    retry_max_backoff_seconds: float = Field(default=30.0, ge=0)
    retry_deadline_seconds: float = Field(default=120.0, gt=0)

    # --- Poller -------------------------------------------------------------------------------
    poll_time_budget_seconds: float = Field(default=40.0, gt=0, lt=60)
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    # Inside a sensor tick the poll shares Dagster's 60 s limit with the tick's own work.
    sensor_poll_budget_seconds: float = Field(default=15.0, gt=0, lt=45)

    # --- Run model: how runs share out hirers, and when owed work is due again -----------------
    hirers_per_run: int = Field(default=50, ge=1, le=1000)  # hirers one run covers at most
    hirer_items_per_run: int = Field(default=500, ge=1)  # per stage, so no hirer starves others
    runs_per_tick: int = Field(default=8, ge=1)  # runs one tick requests at most
    ats_confirm_timeout_seconds: float = Field(default=600.0, gt=0)  # then an upload is read back
    work_retry_base_seconds: float = Field(default=30.0, ge=0)  # failed items: doubling backoff
    work_retry_max_seconds: float = Field(default=3600.0, ge=0)
    lease_stale_seconds: float = Field(default=120.0, gt=0)  # a holder on another host is dead
    lease_reservation_seconds: float = Field(default=600.0, gt=0)  # a queued run's reservation
    sync_interval_seconds: float = Field(default=30.0, gt=0)  # between ticks of `sync --loop`

    # --- Onderwijsregio v2 ------------------------------------------------------------------------
    onderwijsregio_url: str = "https://onderwijsregio.onderwijsin.nl/api/v2"
    onderwijsregio_api_key: SecretStr | None = None
    onderwijsregio_callback_secret: SecretStr | None = None
    # Unconfirmed limits (seed 002): the stricter decimal reading is the default.
    onderwijsregio_data_limit_bytes: int = Field(default=5_000_000, ge=1)
    onderwijsregio_url_limit_bytes: int = Field(default=25_000_000, ge=1)
    onderwijsregio_max_files_per_field: int = Field(default=5, ge=1)
    onderwijsregio_callback_tolerance_seconds: float = Field(default=300.0, gt=0)
    # Unconfirmed wire details (ats-apis.md marks them [?]); README "ATS assumptions" lists them.
    onderwijsregio_filename_field: str = "filename"
    onderwijsregio_data_field: str = "data"
    onderwijsregio_url_field: str = "url"
    onderwijsregio_idempotency_header: str = "Idempotency-Key"
    onderwijsregio_callback_url_header: str = "x-callback-url"
    onderwijsregio_delete_field: str = "attachmentIds"
    onderwijsregio_allowed_types: list[str] = Field(
        default_factory=lambda: list(SEED_002_ALLOWED_TYPES)
    )

    # --- Kombo ------------------------------------------------------------------------------------
    kombo_url: str = "https://api.kombo.dev/v1"
    kombo_api_key: SecretStr | None = None
    kombo_integration_id: str | None = None
    # Writes in flight per integration: well under Kombo's documented cap of 30 (README).
    kombo_write_concurrency: int = Field(default=8, ge=1, le=30)
    # Files up to this size travel inline as base64 `data`; bigger ones as a signed `data_url`.
    kombo_data_limit_bytes: int = Field(default=10_000_000, ge=1)

    # --- Where things live ----------------------------------------------------------------------
    home: Path = Path(".seek-sync")
    inbox_path: Path | None = None
    warehouse_path: Path | None = None
    blob_url: str | None = None
    hirer_targets_path: Path | None = None

    # --- Receiver app (webhooks, ATS callbacks, signed blob URLs) ------------------------------
    receiver_public_url: str = "http://127.0.0.1:8701"
    blob_signing_secret: SecretStr | None = None
    signed_url_ttl_seconds: int = Field(default=900, ge=1, le=86_400)

    @field_validator(
        "seek_token_url",
        "seek_graphql_url",
        "onderwijsregio_url",
        "kombo_url",
        "receiver_public_url",
    )
    @classmethod
    def _urls(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("seek_attachment_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [origin_of(_http_url(v)) for v in value]

    @field_validator("seek_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr) -> SecretStr:
        # SEEK requires signing secrets of 16 to 255 bytes.
        if not 16 <= len(value.get_secret_value().encode()) <= 255:
            raise ValueError("must be 16 to 255 bytes long")
        return value

    @model_validator(mode="after")
    def _derived_paths(self) -> Self:
        home = self.home
        defaults = {
            "inbox_path": home / "inbox.sqlite3",
            "warehouse_path": home / "warehouse.duckdb",
            "blob_url": (home / "blobs").resolve().as_uri(),
        }
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        return self

    @property
    def token_origins(self) -> frozenset[str]:
        """Origins allowed to receive the partner token."""
        return frozenset(self.seek_attachment_origins or [origin_of(self.seek_graphql_url)])


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    name = ENV_PREFIX + "_".join(str(p) for p in first["loc"] if isinstance(p, str)).upper()
    if first["type"] == "missing":
        return f"setting {name} is missing"
    return f"setting {name} is invalid: {first['msg']}"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, raising `SettingsError` with one line naming the first bad one."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_one_line(error)) from None
