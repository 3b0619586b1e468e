"""What tombstones cover when they are applied again (`pipeline/reapply.py`), on both backends: a
`candidate` or `hirer` tombstone covers the applications created up to its purge, so a person or
hirer who came back keeps the later ones; when it covers everything, the purge is whole again."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from seek_sync.pipeline.reapply import _plan
from tests.backends import Backend
from tests.store.world import H1, H2, NOW, make_world

BEFORE, AFTER = (NOW + timedelta(days=d) for d in (-1, 1))  # p-ann-1 is older, the rest NOW


@pytest.mark.parametrize(
    ("marks", "hirers", "people", "profiles"),
    [
        ({"candidate": {"c-ann": AFTER}}, [], ["c-ann"], []),
        ({"candidate": {"c-ann": BEFORE}, "hirer": {H2: BEFORE}, "profile": {"p-bob-1": BEFORE}},
         [], [], ["p-ann-1", "p-bad-date", "p-bob-1", "p-old-event"]),  # H2's older and undated
        ({"candidate": {"c-ann": AFTER}, "hirer": {H2: AFTER}}, [H2], ["c-ann"], []),
        ({"hirer": {H1: BEFORE}, "profile": {"p-missing": AFTER}}, [], [], ["p-ann-1"]),
    ],
)  # fmt: skip
def test_the_plan_covers_what_each_tombstone_covered(
    backend: Backend, marks: dict, hirers: list, people: list, profiles: list
) -> None:
    world = make_world(backend)
    given = {kind: {} for kind in ("hirer", "candidate", "profile")}
    for kind, ids in marks.items():
        given[kind] = {key: moment.isoformat() for key, moment in ids.items()}
    plan = _plan(SimpleNamespace(warehouse=world.warehouse), given)  # type: ignore[arg-type]
    assert (plan.hirers, plan.people, plan.profiles) == (hirers, people, profiles)
