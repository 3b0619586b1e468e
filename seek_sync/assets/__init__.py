"""Dagster assets and asset checks, one module per stage; each calls `seek_sync.pipeline`."""
