"""The SEEK client: partner token, GraphQL, events, profiles and attachment downloads (no Dagster)."""
