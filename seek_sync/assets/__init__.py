"""Dagster assets and asset checks, one module per stage; each calls `seek_sync.pipeline`."""

import warnings

import dagster as dg

# `backfill_policy` on assets is beta in Dagster 1.13; we use it knowingly (docs/run-model.md),
# and its warning on every import would bury the one line a CLI error prints.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)
# Partitioned asset checks are a preview in 1.13; we use them so each hirer has its own result.
warnings.filterwarnings("ignore", message="Specifying a partitions_def", category=dg.PreviewWarning)
# Source code references are beta in 1.13; they only add links to the catalog.
for beta in ("with_source_code_references", "LocalFileCodeReference", "CodeReferencesMetadata"):
    warnings.filterwarnings("ignore", message=f".*`{beta}", category=dg.BetaWarning)
