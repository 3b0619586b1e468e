"""The attachment proxy role: streams one SEEK attachment to an ATS for a signed, short-lived token,
with the partner token, storing nothing and opening no database (`seek-sync proxy serve`)."""
