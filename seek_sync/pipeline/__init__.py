"""The per-hirer stages of the flow, as plain functions (no Dagster): each reads what is pending
for one hirer from the inbox or the warehouse, does its network work outside any warehouse
connection, and writes its results in one batched upsert. Re-running a stage changes nothing."""
