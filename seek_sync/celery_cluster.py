"""Runs on Celery workers: which settings choose it, and the instance file's part for it.

`SEEK_SYNC_CELERY_BROKER_URL` (RabbitMQ, a secret) chooses it, on the server backend only: the
Dagster instance then launches every run as one Celery task through dagster-celery's
`CeleryRunLauncher` (`dagster-celery.yaml`, merged into the instance file by
`seek_sync/dagster_instance.py`), and `seek-sync worker` processes execute them. The file reads
the broker, the result backend and the queue from the environment; the run slots are written
into it (Dagster reads `max_concurrent_runs` only as a literal). No Dagster import here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from seek_sync.settings import ENV_PREFIX, SettingsError

CELERY_YAML = Path(__file__).resolve().parent.parent / "dagster-celery.yaml"
BROKER_ENV = f"{ENV_PREFIX}CELERY_BROKER_URL"
BACKEND_ENV = f"{ENV_PREFIX}CELERY_RESULT_BACKEND"
QUEUE_ENV = f"{ENV_PREFIX}CELERY_QUEUE"
SLOTS_ENV = f"{ENV_PREFIX}CELERY_RUN_SLOTS"
DEFAULT_QUEUE = "seek_sync"
WORKER_TAG = "seek_sync/worker"  # the run tag naming the worker that executed the run
BROKER_SCHEMES = ("amqp", "amqps", "pyamqp")
BACKEND_SCHEMES = ("redis", "rediss")
QUEUE_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,200}")


def _invalid(name: str, why: str) -> SettingsError:
    return SettingsError(f"setting {name} is invalid: {why}")


@dataclass(frozen=True)
class CeleryCluster:
    """Runs on Celery workers: the queue they consume and how many runs may go at once."""

    queue: str
    run_slots: int

    @classmethod
    def chosen(cls, environ: Mapping[str, str]) -> CeleryCluster | None:
        """The cluster `environ` chooses (None without a broker URL); `SettingsError` in one line
        naming the first bad or missing setting."""
        broker = environ.get(BROKER_ENV)
        if not broker:
            return None
        if not environ.get(f"{ENV_PREFIX}DATABASE_URL"):
            raise _invalid(
                BROKER_ENV,
                f"runs on Celery workers need the server backend ({ENV_PREFIX}DATABASE_URL):"
                " workers share no disk",
            )
        if urlsplit(broker).scheme not in BROKER_SCHEMES:
            raise _invalid(BROKER_ENV, f"give an AMQP (RabbitMQ) URL: {', '.join(BROKER_SCHEMES)}")
        backend = environ.get(BACKEND_ENV)
        if not backend:
            raise SettingsError(f"setting {BACKEND_ENV} is missing (a redis:// URL)")
        if urlsplit(backend).scheme not in BACKEND_SCHEMES:
            raise _invalid(
                BACKEND_ENV,
                "give a redis:// URL: Dagster's run monitoring reads each run's task state from"
                " it (an rpc:// result reaches only the process that sent the task)",
            )
        queue = environ.get(QUEUE_ENV) or DEFAULT_QUEUE
        if not QUEUE_NAME.fullmatch(queue):
            raise _invalid(QUEUE_ENV, "letters, digits and _ . : - only")
        slots = environ.get(SLOTS_ENV, "1")
        if not slots.isdigit() or int(slots) < 1:
            raise _invalid(SLOTS_ENV, "a whole number of at least 1 (every worker's slots summed)")
        return cls(queue, int(slots))

    def environment(self) -> dict[str, str]:
        """The variable the instance file reads that may have come from a default."""
        return {QUEUE_ENV: self.queue}

    def instance(self, base: Mapping[str, Any]) -> dict[str, Any]:
        """`base` (the instance file as a mapping) with `dagster-celery.yaml` merged in and the
        run limit set to the run slots."""
        fragment = yaml.safe_load(CELERY_YAML.read_text(encoding="utf-8"))
        fragment["concurrency"]["runs"]["max_concurrent_runs"] = self.run_slots
        return merged(base, fragment)


def merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated by `extra`, mappings merged key by key, anything else replaced."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out
