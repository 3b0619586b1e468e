"""Hirer keys: short, readable, unique partition keys, made once per hirer and never changed.

The map lives in the inbox database (`hirer_keys`), so every check runs on both backends; the
tick makes the keys of new hirers (`KeyMaker`), asking SEEK for names the inbox lacks."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seek_sync.cli import app
from seek_sync.hirer_slugs import KEY_PX, make_key, slug, width
from seek_sync.ids import InvalidHirerIdError
from seek_sync.pipeline.hirers import NAME
from seek_sync.pipeline.naming import KeyMaker
from seek_sync.runstate.hirer_keys import HirerKeys, UnknownHirerKeyError
from seek_sync.runstate.inbox import Inbox
from seek_sync.sandbox import corpus
from tests.backends import Backend
from tests.inboxes import inbox_of

PREFIX = "seekAnzPublicTest:organization:seek:"
BLUE, ACME = PREFIX + "45ub7Qe4", PREFIX + "Z58sFy76"
LOG = logging.getLogger("test.hirer_keys")


@pytest.mark.parametrize(
    ("name", "in_96_px", "in_60_px"),
    [
        ("Blue Gum Aged Care", "blue-gum-aged", "blue-gum"),
        ("Acme Engineering Pty Ltd", "acme", "acme"),  # `acme-engineering` is 99.7 px
        ("Wattle & Co. Cafés", "wattle-co-cafes", "wattle-co"),
        ("Ōtautahi Community Trust", "otautahi", "otautahi"),
        ("Department of Education and Training", "department", "departme"),
        ("The Co", "co", "co"),
        ("Supercalifragilisticexpialidocious Ltd", "supercalifragilisti", "supercalifr"),
        ("東京", "hirer", "hirer"),
        (None, "hirer", "hirer"),
        ("Evil\u202eCorp\n../Ltd", "evilcorp", "evilcorp"),
        ("Mmmm Wwww Mmmm", "mmmm-wwww", "mmmm"),
    ],
)
def test_a_slug_is_as_many_plain_words_of_the_name_as_fit(
    name: str | None, in_96_px: str, in_60_px: str
) -> None:
    assert slug(name) == in_96_px and width(in_96_px) <= 96
    assert slug(name, 60) == in_60_px and width(in_60_px) <= 60


def test_every_key_of_the_sandbox_names_is_short_and_unique() -> None:
    ids = [f"{PREFIX}{i:08d}" for i in range(len(corpus.HIRERS))]
    keys = [make_key(h, name) for h, (name, _) in zip(ids, corpus.HIRERS, strict=True)]
    assert len(set(keys)) == len(keys)
    assert all(width(k) <= KEY_PX for k in keys), {k: width(k) for k in keys}
    assert make_key(BLUE, "Blue Gum Aged Care") == "blue-gum-7Qe4"  # 85.8 px; -aged: 117


def test_a_taken_key_takes_more_of_the_token_then_a_number() -> None:
    assert make_key(BLUE, "Acme", {"acme-7Qe4"}) == "acme-b7Qe4"
    full = {f"acme-{'45ub7Qe4'[-n:]}" for n in range(4, 9)}
    numbered = make_key(BLUE, "Acme", full)  # the same token in another scheme
    assert numbered == "ac-45ub7Qe4-2" and width(numbered) <= KEY_PX
    assert make_key(BLUE, "Acme", full | {numbered}) == "ac-45ub7Qe4-3"


def test_a_key_is_made_once_and_kept_through_a_rename(backend: Backend) -> None:
    keys = HirerKeys(inbox_of(backend))
    assert keys.assign({BLUE: "Blue Gum Aged Care", ACME: None}) == {
        BLUE: "blue-gum-7Qe4",
        ACME: "hirer-Fy76",
    }
    assert keys.assign({BLUE: "Renamed Holdings", ACME: "Acme"}) == {
        BLUE: "blue-gum-7Qe4",
        ACME: "hirer-Fy76",
    }
    assert keys.all() == {BLUE: "blue-gum-7Qe4", ACME: "hirer-Fy76"}


def test_keys_are_unique_across_schemes_and_names(backend: Backend) -> None:
    twins = [f"{scheme}:organization:seek:45ub7Qe4" for scheme in ("seekAnz", "global")]
    keys = HirerKeys(inbox_of(backend)).assign({h: "Acme" for h in [*twins, BLUE, ACME]})
    assert sorted(keys.values()) == ["acme-7Qe4", "acme-Fy76", "acme-b7Qe4", "acme-ub7Qe4"]


def test_keys_and_ids_map_both_ways_and_old_partitions_name_their_hirer(backend: Backend) -> None:
    keys = HirerKeys(inbox_of(backend))
    keys.assign({BLUE: "Blue Gum Aged Care"})
    assert keys.keys_of([BLUE, ACME]) == {BLUE: "blue-gum-7Qe4", ACME: ACME}
    assert keys.hirers_of(["blue-gum-7Qe4", ACME]) == {
        "blue-gum-7Qe4": BLUE,
        ACME: ACME,  # an earlier release's partition key: the hirer id itself
    }
    with pytest.raises(UnknownHirerKeyError, match="no hirer has the partition key 'nobody-0000'"):
        keys.hirers_of(["nobody-0000"])
    with pytest.raises(InvalidHirerIdError):
        keys.assign({"../etc": "Evil"})
    assert keys.all() == {BLUE: "blue-gum-7Qe4"}


def test_many_assigners_at_once_agree_on_every_key(backend: Backend) -> None:
    inbox = inbox_of(backend)
    ids = [f"{PREFIX}T{i:03d}same" for i in range(40)]  # every key collides on its tail

    def assign(offset: int) -> dict[str, str]:
        turn = ids[offset:] + ids[:offset]
        return HirerKeys(inbox).assign({h: "Same Name" for h in turn})

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(assign, range(0, 36, 6)))
    assert all(r == results[0] for r in results)
    assert len(set(results[0].values())) == len(ids) == len(HirerKeys(inbox).all())


def test_the_tick_asks_seek_for_names_it_lacks_and_waits_when_seek_cannot_say(
    backend: Backend,
) -> None:
    inbox = inbox_of(backend)
    inbox.set_cursor(NAME + BLUE, "Blue Gum Aged Care")
    asked: list[int] = []

    def down() -> dict[str, str]:
        asked.append(1)
        raise ConnectionError("SEEK is down")

    maker = KeyMaker(inbox, down, LOG)
    assert maker.unready([BLUE]) == set() and asked == []  # named already: no SEEK call
    assert maker.unready([BLUE, ACME]) == {ACME} and asked == [1]  # waits, gets no key
    assert HirerKeys(inbox).all() == {BLUE: "blue-gum-7Qe4"}

    other = PREFIX + "NoName99"
    maker = KeyMaker(inbox, lambda: {ACME: "Acme Engineering Pty Ltd"}, LOG)
    assert maker.unready([ACME, other]) == set()
    assert maker.key(ACME) == "acme-Fy76" and maker.key(other) == "hirer-me99"


def test_seek_sync_hirers_lists_each_key_with_its_id_and_name(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    inbox.set_cursor(NAME + BLUE, "Blue Gum Aged Care")
    HirerKeys(inbox).assign({BLUE: "Blue Gum Aged Care", ACME: None})
    result = CliRunner().invoke(app, ["hirers"], env={"SEEK_SYNC_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"blue-gum-7Qe4\t{BLUE}\tBlue Gum Aged Care",
        f"hirer-Fy76\t{ACME}\t",
    ]
