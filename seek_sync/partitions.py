"""The one partitioning of seek-sync: by SEEK hirer, added by the sensor as hirers appear."""

import dagster as dg

hirer_partitions = dg.DynamicPartitionsDefinition(name="hirer")
