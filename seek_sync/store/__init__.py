"""Storage: the DuckDB warehouse and the fsspec blob store (no Dagster)."""
