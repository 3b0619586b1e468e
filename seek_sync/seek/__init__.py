"""SEEK client: partner token, GraphQL, events, profiles, attachment downloads (no Dagster)."""
