"""The hirer → ATS target map (a YAML file): which ATS each SEEK hirer's files go to.

Credentials are never in the file: it names the environment variables that hold them (or, with
`SEEK_SYNC_SECRETS_DIR`, the files of those names there), read when a target is built. A hirer
that is not in the map is reported as unmapped, never guessed.

```yaml
hirers:
  "seekAnzPublicTest:organization:seek:93WyyF1h":
    target: onderwijsregio
    api_key_env: SEEK_SYNC_OR_REGION_A_API_KEY
    callback_secret_env: SEEK_SYNC_OR_REGION_A_CALLBACK_SECRET
  "seekAnzPublicTest:organization:seek:7bQ2xKpL":
    target: kombo
    api_key_env: SEEK_SYNC_KOMBO_API_KEY
    integration_id: "greenhouse:AbC123"
    jobs: {"REQ-2026-0417": "8KbZqJ2mXv9Lp4Rt6Yw3Nc1D"}   # seekHirerJobReference -> Kombo job id
    default_job_id: null
    attachments: on_demand   # keep none of this hirer's documents (default: stored)
```
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from seek_sync.settings import secret_value


class TargetKind(StrEnum):
    ONDERWIJSREGIO = "onderwijsregio"
    KOMBO = "kombo"


class TargetConfigError(ValueError):
    """The map file is missing, malformed, or names a credential variable that is not set."""


class UnmappedHirerError(LookupError):
    """The hirer has no entry in the target map."""

    def __init__(self, hirer_id: str) -> None:
        self.hirer_id = hirer_id
        super().__init__(f"hirer {hirer_id} has no ATS target in the hirer map")


class HirerTarget(BaseModel):
    """Where one hirer's applications go, and the names of the variables holding credentials."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: TargetKind
    base_url: str | None = Field(default=None, description="overrides the settings' URL")
    api_key_env: str = Field(min_length=1)
    callback_secret_env: str | None = None
    integration_id: str | None = None
    jobs: dict[str, str] = Field(default_factory=dict)
    default_job_id: str | None = None
    # `stored`: files downloaded when the application arrives and kept (until retention);
    # `on_demand`: none of the hirer's documents is stored, each push fetches the file from SEEK.
    attachments: Literal["stored", "on_demand"] = "stored"

    def secret(self, env_name: str | None) -> SecretStr:
        if not env_name:
            raise TargetConfigError(f"{self.target} target needs a credential variable name")
        value = secret_value(env_name)  # the environment, else SEEK_SYNC_SECRETS_DIR
        if not value:
            raise TargetConfigError(f"environment variable {env_name} is not set")
        return SecretStr(value)

    def api_key(self) -> SecretStr:
        return self.secret(self.api_key_env)

    def job_for(self, job_reference: str | None) -> str | None:
        """Kombo job id for a SEEK `seekHirerJobReference` (the map, else the default job)."""
        if job_reference and job_reference in self.jobs:
            return self.jobs[job_reference]
        return self.default_job_id


class TargetMap(BaseModel):
    """Every mapped hirer; `for_hirer` raises `UnmappedHirerError` for any other."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hirers: dict[str, HirerTarget] = Field(default_factory=dict)

    def for_hirer(self, hirer_id: str) -> HirerTarget:
        try:
            return self.hirers[hirer_id]
        except KeyError:
            raise UnmappedHirerError(hirer_id) from None

    def on_demand(self) -> frozenset[str]:
        """The hirers whose documents are never stored (`attachments: on_demand`)."""
        return frozenset(h for h, t in self.hirers.items() if t.attachments == "on_demand")

    @classmethod
    def load(cls, path: Path) -> TargetMap:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise TargetConfigError(f"hirer target map {path} does not exist") from None
        except yaml.YAMLError as error:
            raise TargetConfigError(f"hirer target map {path} is not valid YAML: {error}") from None
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise TargetConfigError(f"hirer target map {path}: {where}: {first['msg']}") from None
