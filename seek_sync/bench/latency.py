"""Per application: from its webhook's acceptance to its files at the ATS, and to confirmed.

The clocks are the outside parties' own: the sandbox's time of the receiver's 2xx (`accepted_at`
of the trickle), each ATS fake's time of holding a file (`accepted_at` in its ledger; a file is
known by the SHA-256 of the bytes the sandbox served for the attachment), and the store's time of
each upload's confirmation (`updated_at` of a `confirmed` row of `ats_uploads`: the journal stamps
a row when its outcome became known, and nothing writes a confirmed row again). A file our own
policy refused (`rejected` in the store) was never meant to reach the ATS and is not waited for.
An application that never got there is infinitely late: a percentile it reaches is `None`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PERCENTILES = (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))


@dataclass(frozen=True)
class Upload:
    """An upload as the store holds it: its state and when that state was written."""

    state: str
    updated_at: float | None  # epoch seconds


@dataclass
class Latencies:
    accepted_s: list[float] = field(default_factory=list)  # inf: never at the fake
    confirmed_s: list[float] = field(default_factory=list)  # inf: never confirmed
    webhooks_failed: int = 0  # never accepted by the receiver: nothing to time from
    not_at_fake: int = 0
    not_confirmed: int = 0
    without_files: int = 0  # nothing to send (not timed)
    rejected_files: int = 0  # refused by our policy, not waited for

    @property
    def unsettled(self) -> int:
        late = sum(
            math.isinf(a) or math.isinf(c)
            for a, c in zip(self.accepted_s, self.confirmed_s, strict=True)
        )
        return late + self.webhooks_failed

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted_s": summary(self.accepted_s),
            "confirmed_s": summary(self.confirmed_s),
            "unsettled": self.unsettled,
            "not_at_fake": self.not_at_fake,
            "not_confirmed": self.not_confirmed,
            "webhooks_failed": self.webhooks_failed,
            "without_files": self.without_files,
            "rejected_files": self.rejected_files,
        }


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float | None]:
    """p50, p95, p99 and max in seconds (None where an unsettled application is reached)."""
    if not values:
        return {name: None for name, _ in PERCENTILES}
    out: dict[str, float | None] = {}
    for name, p in PERCENTILES:
        value = percentile(values, p)
        out[name] = None if math.isinf(value) else round(value, 3)
    return out


def first_held(files: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """SHA-256 -> the earliest time an ATS fake held a file with those bytes."""
    held: dict[str, float] = {}
    for file in files:
        at = file.get("accepted_at")
        if at is not None:
            held[file["sha256"]] = min(float(at), held.get(file["sha256"], math.inf))
    return held


def latencies(
    applications: Iterable[Mapping[str, Any]],
    held: Mapping[str, float],
    uploads: Mapping[str, Upload],
) -> Latencies:
    """Each trickled application (with its attachments' digests) timed against the fakes' files
    (`held`, from `first_held`) and the store's uploads by attachment id."""
    out = Latencies()
    for application in applications:
        start = application.get("accepted_at")
        if start is None:
            out.webhooks_failed += 1
            continue
        wanted = [a for a in application.get("attachments", []) if not a.get("removed")]
        refused = [a for a in wanted if _state(uploads, a["id"]) == "rejected"]
        out.rejected_files += len(refused)
        wanted = [a for a in wanted if a not in refused]
        if not wanted:
            out.without_files += 1
            continue
        at_fake = max(held.get(a["sha256"], math.inf) for a in wanted)
        confirmed = max(_confirmed_at(uploads, a["id"]) for a in wanted)
        out.not_at_fake += math.isinf(at_fake)
        out.not_confirmed += math.isinf(confirmed)
        out.accepted_s.append(at_fake - float(start))
        out.confirmed_s.append(confirmed - float(start))
    return out


def _state(uploads: Mapping[str, Upload], attachment_id: str) -> str | None:
    upload = uploads.get(attachment_id)
    return upload.state if upload else None


def _confirmed_at(uploads: Mapping[str, Upload], attachment_id: str) -> float:
    upload = uploads.get(attachment_id)
    if upload is None or upload.state != "confirmed" or upload.updated_at is None:
        return math.inf
    return upload.updated_at
