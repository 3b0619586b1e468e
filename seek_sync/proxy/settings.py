"""The proxy's own settings: SEEK's partner credential and URLs, and the URL signing key; nothing
else (no webhook or callback secret, no ATS key, no inbox, warehouse or blob store)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, field_validator

from seek_sync.settings import SeekClientSettings, SettingsBase, load


class ProxyKeyFields(SettingsBase):
    """The key proxy URLs are signed with, shared by the run steps (which sign) and the proxy."""

    proxy_signing_secret: SecretStr

    @field_validator("proxy_signing_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 bytes long")
        return value


class ProxySettings(SeekClientSettings, ProxyKeyFields):
    """`seek-sync proxy serve`."""

    proxy_concurrency: int = Field(default=16, ge=1, le=256)  # streams in flight; then 503
    proxy_first_byte_timeout_seconds: float = Field(default=30.0, gt=0)  # then 504


def load_proxy_settings(**overrides: Any) -> ProxySettings:
    return load(ProxySettings, **overrides)
