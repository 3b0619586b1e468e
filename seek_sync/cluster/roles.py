"""Each cluster process's environment: only its own role's settings.

Every process starts from this one's environment without any `SEEK_SYNC_*` or `DAGSTER_*`
variable (plus moto's dummy AWS credentials), then gets:

- the receivers: the receiver's settings only (`receiver_environment`), no SEEK partner
  credential or ATS key;
- the workers: the run steps' settings (`Settings`, and the ATS keys the hirer map names) and the
  Celery variables; each writes its own Dagster instance file;
- the code server: the run steps' settings (its sensor ticks) and the Dagster instance's variables;
- the webserver and the daemon: the Dagster instance's variables only, no seek-sync setting.

Each process with a home gets a home of its own holding its own copy of the hirer map.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from seek_sync.ats.targets import TargetMap
from seek_sync.celery_cluster import BACKEND_ENV, BROKER_ENV, QUEUE_ENV, SLOTS_ENV
from seek_sync.dagster_instance import INSTANCE_ENV, make_home
from seek_sync.receiver.config import receiver_environment
from seek_sync.settings import ENV_PREFIX, Settings, env_names

MOTO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
CELERY_ENV = (BROKER_ENV, BACKEND_ENV, QUEUE_ENV, SLOTS_ENV)
HOME_ENV, MAP_ENV = f"{ENV_PREFIX}HOME", f"{ENV_PREFIX}HIRER_TARGETS_PATH"


def base_environment() -> dict[str, str]:
    """This process's environment without seek-sync's or Dagster's variables, plus moto's
    credentials (the cluster's S3 is moto)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith((ENV_PREFIX, "DAGSTER_"))}
    return keep | MOTO_CREDENTIALS


def own_home(stack: Mapping[str, str], folder: Path) -> dict[str, str]:
    """A home of the process's own under `folder`, with its own copy of the hirer map."""
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    targets = home / "hirer-targets.yaml"
    shutil.copyfile(stack[MAP_ENV], targets)
    return {HOME_ENV: str(home), MAP_ENV: str(targets)}


def run_settings(stack: Mapping[str, str], folder: Path) -> dict[str, str]:
    """The run steps' settings out of `stack`, and the ATS keys its hirer map names."""
    names = set(env_names(Settings))
    targets = TargetMap.load(Path(stack[MAP_ENV]))
    names |= {entry.api_key_env for entry in targets.hirers.values()}
    return {k: v for k, v in stack.items() if k in names} | own_home(stack, folder)


def celery_variables(stack: Mapping[str, str]) -> dict[str, str]:
    return {k: stack[k] for k in CELERY_ENV if k in stack}


def dagster_variables(stack: Mapping[str, str], folder: Path) -> dict[str, str]:
    """The process's own Dagster home (its instance file, written here) and the variables that
    file reads: PostgreSQL's and Celery's."""
    made = make_home(folder / "dagster", stack)
    return made | celery_variables(stack)


def receiver_role(stack: Mapping[str, str], folder: Path) -> dict[str, str]:
    mine = {**stack, **own_home(stack, folder)}
    return base_environment() | receiver_environment(mine)


def worker_role(stack: Mapping[str, str], folder: Path) -> dict[str, str]:
    return base_environment() | run_settings(stack, folder) | celery_variables(stack)


def code_server_role(stack: Mapping[str, str], folder: Path) -> dict[str, str]:
    settings = run_settings(stack, folder)
    return base_environment() | settings | dagster_variables(stack, folder)


def dagster_role(stack: Mapping[str, str], folder: Path) -> dict[str, str]:
    """The webserver's and the daemon's: the instance only."""
    return base_environment() | dagster_variables(stack, folder)


def instance_variables(env: Mapping[str, str]) -> dict[str, str]:
    """The variables a process opening the cluster's Dagster instance needs."""
    return {k: env[k] for k in (*INSTANCE_ENV, *CELERY_ENV) if k in env}
