"""`seek-sync bench`: the library path against the Dagster path, on sandboxes of their own."""
