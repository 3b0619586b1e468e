"""The few SQL fragments DuckDB and PostgreSQL spell differently, so each query is written once.

Queries use `?` placeholders and portable SQL (`EXTRACT(EPOCH FROM ...)`, `array_agg`, explicit
`GROUP BY` lists, `(SELECT UNNEST(?::VARCHAR[]))` for a Python list parameter, which both accept).
What still differs (JSON paths, a cast that may fail, the catalog) comes from a function of the
dialect, which every reader carries as `.dialect`. No Dagster here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Dialect = Literal["duckdb", "postgresql"]

# A list parameter (a Python list of strings) as a subquery: `x IN {IN_LIST}`.
IN_LIST = "(SELECT UNNEST(?::VARCHAR[]))"


def in_hirers(column: str = "hirer_id") -> str:
    """A filter on a list of hirer ids passed as one parameter (a Python list)."""
    return f"{column} IN {IN_LIST}"


def sql_literals(values: Iterable[str]) -> str:
    """Constant words (states) as a SQL list, `'a', 'b'`, sorted so a query's text is stable."""
    return ", ".join(f"'{value}'" for value in sorted(values))


def epoch(expression: str) -> str:
    """Seconds since 1970 of a timestamp, as a double (both dialects)."""
    return f"CAST(EXTRACT(EPOCH FROM {expression}) AS DOUBLE PRECISION)"


def json_text(dialect: Dialect, column: str, path: str) -> str:
    """The first string at a JSON path (`$.a.b[0].c`) of a JSON text column, or NULL."""
    if dialect == "postgresql":
        return f"(jsonb_path_query_first(CAST({column} AS jsonb), '{path}') #>> '{{}}')"
    return f"json_extract_string({column}, '{path}')"


def json_texts_contain(dialect: Dialect, column: str, path: str) -> str:
    """Whether any string at a JSON path with wildcards (`$.a[*].b`) equals the next `?`
    parameter, ignoring case."""
    if dialect == "postgresql":
        return (
            f"EXISTS (SELECT 1 FROM jsonb_path_query(CAST({column} AS jsonb), '{path}') AS j(v) "
            "WHERE lower(j.v #>> '{}') = lower(?))"
        )
    return (
        f"list_contains(list_transform(json_extract_string({column}, '{path}'), "
        "lambda x: lower(x)), lower(?))"
    )


# An ISO-8601 date-time as text: what PostgreSQL may cast without failing the whole query.
_ISO = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?(Z|[+-][0-9:]+)?$"
)


def try_timestamptz(dialect: Dialect, expression: str) -> str:
    """A text as TIMESTAMPTZ, NULL where it is not one (no error for bad input)."""
    if dialect == "postgresql":
        return f"(CASE WHEN {expression} ~ '{_ISO}' THEN CAST({expression} AS TIMESTAMPTZ) END)"
    return f"TRY_CAST({expression} AS TIMESTAMPTZ)"


def table_exists(dialect: Dialect, table: str) -> str:
    """A query with one row when `table` exists in the warehouse's schema, none otherwise."""
    if dialect == "postgresql":
        return (
            f"SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = '{table}'"
        )
    return f"SELECT 1 FROM duckdb_tables() WHERE table_name = '{table}'"
