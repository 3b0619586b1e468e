"""The machine's PostgreSQL, RabbitMQ and Redis, as a local cluster uses them: reachable or not
(one line saying which and how to start it), the cluster's own database made and dropped, its
queue deleted, its runs' Celery results removed from Redis. Names are always the cluster's own
(`seek_sync_cluster_<token>`), never anything else on the shared servers."""

from __future__ import annotations

import re

from seek_sync.cluster.config import ClusterServices

OWN_NAME = re.compile(r"seek_sync_cluster_[0-9a-f]{8}")
TASK_META = "celery-task-meta-"  # Celery's Redis key of a task's state
TASK_TAG = "dagster-celery/task_id"  # the run tag dagster-celery's launcher writes
REMEDY = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "RabbitMQ": "rabbitmq-server -detached",
    "Redis": "redis-server --daemonize yes",
}


def _own(name: str) -> str:
    if not OWN_NAME.fullmatch(name):
        raise ValueError(f"not a local cluster's name: {name!r}")
    return name


def reachable(services: ClusterServices) -> str | None:
    """Why a service cannot be used (None when all three can), in one line with the remedy."""
    import kombu
    import psycopg
    import redis

    tries = [
        ("PostgreSQL", lambda: psycopg.connect(services.postgres_url.get_secret_value(),
                                               connect_timeout=3).close()),
        ("RabbitMQ", lambda: kombu.Connection(services.broker_url.get_secret_value(),
                                              connect_timeout=3).ensure_connection(max_retries=1)),
        ("Redis", lambda: redis.Redis.from_url(services.redis_url.get_secret_value(),
                                               socket_connect_timeout=3).ping()),
    ]  # fmt: skip
    for name, attempt in tries:
        try:
            attempt()
        except Exception as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            return (
                f"{name} is not reachable ({type(error).__name__}: {first}); start it with:"
                f" {REMEDY[name]} (or set SEEK_SYNC_CLUSTER_*_URL)"
            )
    return None


def create_database(services: ClusterServices, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(services.postgres_url.get_secret_value(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_own(name))))


def database_exists(services: ClusterServices, name: str) -> bool:
    import psycopg

    with psycopg.connect(services.postgres_url.get_secret_value(), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return found is not None


def task_ids(services: ClusterServices, name: str, schema: str) -> list[str]:
    """The Celery task of every run in the cluster's Dagster instance (read from its run tags,
    with no Dagster import)."""
    import psycopg
    from psycopg import sql

    if not database_exists(services, name):
        return []
    url = services.database_url(name).replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as connection:
        table = sql.Identifier(schema, "run_tags")
        if connection.execute("SELECT to_regclass(%s)", [f"{schema}.run_tags"]).fetchone() == (
            None,
        ):
            return []
        query = sql.SQL("SELECT value FROM {} WHERE key = %s").format(table)
        return [row[0] for row in connection.execute(query, [TASK_TAG]).fetchall()]


def drop_database(services: ClusterServices, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(services.postgres_url.get_secret_value(), autocommit=True) as admin:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        admin.execute(drop.format(sql.Identifier(_own(name))))


def delete_queue(services: ClusterServices, queue: str) -> None:
    """The cluster's queue and its exchange gone from the broker (messages with them)."""
    import kombu

    with kombu.Connection(services.broker_url.get_secret_value(), connect_timeout=5) as conn:
        channel = conn.channel()
        channel.queue_delete(_own(queue))
        channel.exchange_delete(_own(queue))


def forget_results(services: ClusterServices, tasks: list[str]) -> int:
    """The cluster's task states gone from Redis; how many keys were deleted."""
    import redis

    if not tasks:
        return 0
    client = redis.Redis.from_url(services.redis_url.get_secret_value())
    return int(client.delete(*(TASK_META + task for task in tasks)))
