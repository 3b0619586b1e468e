"""Run state: everything that must outlive a process, kept apart from the warehouse.

- `inbox`, `rows`: the durable inbox of SEEK events, ATS callbacks and cursors (de-duplicated by
  id, each row with an ever-increasing seq); written by the poller, the receiver and ticks.
- `journal`: each outside call's outcome as it returns, merged into the warehouse in batches.
- `ledger`: what each hirer owes and when it is next due (`hirer_work`), read by ticks.
- `leases`, `processes`: who holds which hirer and executes which run, and whether it lives.
- `tombstones`: id-only records of purged data (and the inbox side of a purge), so it never returns.
- `retention`: consumed inbox rows past their limit.

Ticks, the poller and the receiver write only here; run steps write here and merge into the
warehouse. No Dagster here (burying a dead Dagster run is `seek_sync.dead_runs`).
"""
