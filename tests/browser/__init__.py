"""The Dagster UI of `seek-sync dev`, driven by Playwright on Debian's Chromium."""
