"""Dagster assets and asset checks, one module per stage; each calls `seek_sync.pipeline`."""

import warnings

import dagster as dg

# `backfill_policy` on assets is beta in Dagster 1.13; we use it knowingly (docs/run-model.md),
# and its warning on every import would bury the one line a CLI error prints.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)
