"""What every store of the project's state shares, whichever database holds it. No Dagster here."""
