"""Every place a stack keeps anything, as haystacks for a raw search, on either backend.

Embedded: every file under the home (the inbox, the warehouse, the blobs, the Dagster home).
Server: the files under the home too (the Dagster home, temp files, logs), every object in the
blob bucket, and every row of every table in the project's schema and in Dagster's (as text:
PostgreSQL keeps long values compressed, out of reach of a byte search of its files).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from psycopg import sql

from seek_sync.dagster_instance import SCHEMA_SUFFIX
from seek_sync.local_stack import LocalStack
from seek_sync.store.warehouse_postgres import conninfo
from tests.dagster.conftest import blobs_of
from tests.dagster.leak_search import Haystack, file_haystacks


def state_haystacks(stack: LocalStack) -> Iterator[Haystack]:
    """`file <path>` under the home; on the server also `blobs/<key>` and `table <schema>.<t>`."""
    yield from file_haystacks(stack.home)
    url = stack.settings.database_url
    if url is None:
        return
    blobs = blobs_of(stack)
    for path in sorted(blobs.fs.find(blobs.root)):
        yield f"blobs/{path.removeprefix(blobs.root + '/')}", bytes(blobs.fs.cat_file(path))
    yield from table_haystacks(url.get_secret_value(), stack.settings.database_schema)


def table_haystacks(url: str, schema: str) -> Iterator[Haystack]:
    """Every row of every table in `schema` and in Dagster's schema beside it, as text."""
    with psycopg.connect(conninfo(url)) as connection:
        tables = connection.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN (%s, %s) "
            "ORDER BY 1, 2",
            [schema, schema + SCHEMA_SUFFIX],
        ).fetchall()
        for owner, table in tables:
            query = sql.SQL("SELECT t::text FROM {}.{} AS t").format(
                sql.Identifier(owner), sql.Identifier(table)
            )
            text = "\n".join(row[0] for row in connection.execute(query))
            yield f"table {owner}.{table}", text.encode()
