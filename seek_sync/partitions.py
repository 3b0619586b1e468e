"""The one partitioning of seek-sync: by SEEK hirer, added by the sensor as hirers appear."""

from collections.abc import Mapping, Sequence

import dagster as dg

from seek_sync.ids import hirer_label

hirer_partitions = dg.DynamicPartitionsDefinition(name="hirer")


def drop_hirer_partition(instance: dg.DagsterInstance, hirer_id: str) -> None:
    """A purged hirer's partition goes with its data; it comes back only if SEEK sends new
    events for the hirer."""
    if instance.has_dynamic_partition(hirer_partitions.name, hirer_id):
        instance.delete_dynamic_partition(hirer_partitions.name, hirer_id)


HIRERS_TAG, NAMES_TAG = "seek_sync/hirers", "seek_sync/hirer_names"
NAMES_TAG_LIMIT = 200


def hirer_tags(hirer_ids: Sequence[str], names: Mapping[str, str]) -> dict[str, str]:
    """A run's hirers as tags: how many, and who (`Name (token)`, so the part of the key that
    tells hirers apart stays visible where the UI cuts long partition keys)."""
    labels = [hirer_label(h, names.get(h)) for h in hirer_ids]
    text = ", ".join(labels)
    if len(text) > NAMES_TAG_LIMIT:
        text = f"{text[: NAMES_TAG_LIMIT - 20].rsplit(', ', 1)[0]}, … ({len(labels)} hirers)"
    return {HIRERS_TAG: str(len(labels)), NAMES_TAG: text}
