"""ATS targets behind one small protocol: Onderwijsregio v2 and Kombo (no Dagster)."""
