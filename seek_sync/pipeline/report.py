"""What a stage did, in numbers and ids only: the source of every materialization's metadata."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

PREVIEW_ROWS = 10


@dataclass
class Totals:
    """Where the hirer stands in the stage's table: rows, rows per state, bytes stored."""

    rows: int = 0
    states: dict[str, int] = field(default_factory=dict)
    bytes: int | None = None


@dataclass
class StageReport:
    """Counts, states and a small preview (ids, types and states; never names or emails)."""

    stage: str
    hirer_id: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    bytes: int = 0
    states: Counter[str] = field(default_factory=Counter)
    preview: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # (state, reason) -> rows: the hirer's uploads not sent (`rejected`) or given up (`failed`),
    # all of them; and those that came to it in this pass.
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    new_reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    totals: Totals | None = None  # the hirer's current totals (`pipeline.totals.add_totals`)
    hirer_name: str | None = None  # as SEEK names the hirer (an organisation, not a person)
    attachments: str | None = None  # the hirer's mode, `stored` or `on_demand` (file stages)

    @property
    def changed(self) -> bool:
        """The pass wrote something, or has something to say."""
        return bool(self.new or self.updated or self.notes)

    def add_preview(self, row: dict[str, Any]) -> None:
        if len(self.preview) < PREVIEW_ROWS:
            self.preview.append(row)

    def preview_markdown(self) -> str:
        if not self.preview:
            return "(nothing new)"
        return pd.DataFrame(self.preview).to_markdown(index=False)


def split_new_updated(
    existing: pd.DataFrame, incoming: pd.DataFrame, key: list[str], compare: list[str]
) -> tuple[pd.DataFrame, int, int, int]:
    """The incoming rows that are new or changed (to write), and counts: new, updated, unchanged."""
    if incoming.empty:
        return incoming, 0, 0, 0
    if existing.empty:
        return incoming, len(incoming), 0, 0
    merged = incoming.merge(
        existing[key + compare], on=key, how="left", suffixes=("", "__old"), indicator=True
    )
    is_new = merged["_merge"] == "left_only"
    changed = pd.Series(False, index=merged.index)
    for column in compare:
        old = merged[f"{column}__old"].astype(object).where(merged[f"{column}__old"].notna())
        now = merged[column].astype(object).where(merged[column].notna())
        changed |= ~is_new & (old.astype(str) != now.astype(str))
    keep = (is_new | changed).to_numpy()
    write = incoming[keep]
    new, updated = int(is_new.sum()), int(changed.sum())
    return write, new, updated, len(incoming) - new - updated


def capped(frame: pd.DataFrame, limit: int | None) -> tuple[pd.DataFrame, dict[str, int]]:
    """At most `limit` rows per hirer (in the frame's order), and how many each hirer had over."""
    if limit is None or frame.empty:
        return frame, {}
    rank = frame.groupby("hirer_id").cumcount()
    over = frame[rank >= limit]["hirer_id"].value_counts().to_dict()
    return frame[rank < limit], {str(h): int(n) for h, n in over.items()}
