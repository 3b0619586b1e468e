"""The one partitioning of seek-sync: by SEEK hirer, added by the sensor as hirers appear."""

import dagster as dg

hirer_partitions = dg.DynamicPartitionsDefinition(name="hirer")


def drop_hirer_partition(instance: dg.DagsterInstance, hirer_id: str) -> None:
    """A purged hirer's partition goes with its data; it comes back only if SEEK sends new
    events for the hirer."""
    if instance.has_dynamic_partition(hirer_partitions.name, hirer_id):
        instance.delete_dynamic_partition(hirer_partitions.name, hirer_id)
