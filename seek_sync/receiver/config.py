"""What the receiver reads at start besides its settings: the callback secret of each hirer.

An Onderwijsregio callback is verified with the secret in the variable its hirer's entry in the
hirer map names (`callback_secret_env`), else with `SEEK_SYNC_ONDERWIJSREGIO_CALLBACK_SECRET`. The
hirer comes from the callback URL's `hirer` parameter, which the signature covers. The map is read
once, at start, and only when `SEEK_SYNC_HIRER_TARGETS_PATH` is set; a variable it names that is
not set stops the receiver with one line naming it. No partner credential or ATS key is read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from seek_sync.ats.targets import TargetConfigError, TargetMap
from seek_sync.settings import ENV_PREFIX, ReceiverSettings, SettingsError, env_names


@dataclass(frozen=True)
class CallbackSecrets:
    """Callback keys by hirer, and the one for every other hirer (None: refuse their callbacks)."""

    default: bytes | None = None
    by_hirer: dict[str, bytes] = field(default_factory=dict)

    def for_hirer(self, hirer_id: str | None) -> bytes | None:
        if hirer_id is not None and hirer_id in self.by_hirer:
            return self.by_hirer[hirer_id]
        return self.default


def _hirer_map(path: str | os.PathLike[str] | None) -> TargetMap | None:
    if not path:
        return None
    try:
        return TargetMap.load(Path(path))
    except TargetConfigError as error:
        raise SettingsError(f"setting {ENV_PREFIX}HIRER_TARGETS_PATH: {error}") from None


def callback_secrets(settings: ReceiverSettings) -> CallbackSecrets:
    """Every hirer's callback key, read once; `SettingsError` (one line) for a named variable
    that is not set, or a hirer map that cannot be read."""
    default = settings.onderwijsregio_callback_secret
    by_hirer: dict[str, bytes] = {}
    targets = _hirer_map(settings.hirer_targets_path)
    for hirer_id, entry in (targets.hirers if targets else {}).items():
        if entry.callback_secret_env:
            try:
                secret = entry.secret(entry.callback_secret_env)
            except TargetConfigError as error:
                raise SettingsError(str(error)) from None
            by_hirer[hirer_id] = secret.get_secret_value().encode()
    return CallbackSecrets(default.get_secret_value().encode() if default else None, by_hirer)


def receiver_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Out of `env` (default: this process's), only the variables the receiver reads: its own
    settings and the callback secrets the hirer map names; for starting it as its own process."""
    env = os.environ if env is None else env
    names = set(env_names(ReceiverSettings))
    targets = _hirer_map(env.get(f"{ENV_PREFIX}HIRER_TARGETS_PATH"))
    for entry in targets.hirers.values() if targets else ():
        if entry.callback_secret_env:
            names.add(entry.callback_secret_env)
    return {name: value for name, value in env.items() if name in names}
