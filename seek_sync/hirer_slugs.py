"""A hirer key as text: a slug of the hirer's name and the tail of its SEEK id, sized in pixels.

The narrowest place the Dagster UI shows a partition key whole is a selected partition's tag (the
materialize dialog, a check's Partitions tab): 100 px of its font at 12 px, measured in Chromium
at a 1,600-px window (`MiddleTruncate` cuts anything wider in the middle). Elsewhere a key has
more room: 157 px in a run's `dagster/partition` tag in the runs list, 274 px (at 14 px) in a
partitions list. So a key is made to fit `KEY_PX`, measured with the advance widths of that font
(`GLYPH_PX`, read from Chromium's canvas). The SEEK id it stands for, `seekAnz...:45ub7Qe4`, is
316 px at 14 px. No Dagster here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from seek_sync.ids import hirer_token

# Advance widths (px) of Geist at 12 px, the Dagster UI's font, as Chromium draws them.
GLYPH_PX = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (
            6.84, 6.96, 6.57, 7.18, 6.75, 4.12, 7.0, 6.97, 2.66, 3.01, 6.92, 3.3, 10.31, 6.76,
            6.89, 7.12, 7.01, 4.27, 6.31, 4.18, 6.9, 6.43, 9.83, 7.02, 6.44, 6.48, 5.1,
            8.05, 4.61, 7.43, 7.36, 7.62, 7.51, 7.49, 7.01, 7.25, 7.49,
            8.04, 8.16, 8.53, 8.15, 7.24, 7.08, 8.5, 8.29, 2.97, 7.16, 7.61, 6.96, 10.25, 8.65,
            8.96, 7.8, 8.89, 8.06, 7.78, 7.14, 8.27, 8.14, 11.04, 7.56, 7.67, 6.5,
        ),
        strict=True,
    )
)  # fmt: skip
WIDEST_PX = 11.04
KEY_PX = 96.0  # the 100 px of a selected partition's tag, less a margin for rounding
TAIL = 4  # characters of the id's token kept (more when another hirer has the key)
NAMELESS = "hirer"  # the slug of a hirer SEEK gives no (Latin) name
# Legal forms at the end of a name, and little words, say nothing that tells hirers apart.
LEGAL_FORMS = frozenset({"pty", "ltd", "limited", "inc", "llc", "plc", "corp", "co", "gmbh", "bv"})
LITTLE_WORDS = frozenset({"the", "of", "and", "for"})


def width(text: str) -> float:
    """`text`'s width in px in the UI's font at 12 px (the widest glyph for any other)."""
    return sum(GLYPH_PX.get(c, WIDEST_PX) for c in text)


def slug(name: str | None, room: float = KEY_PX) -> str:
    """`Blue Gum Aged Care Pty Ltd` -> `blue-gum-aged` (in 96 px): ASCII letters and
    digits, words joined by `-`, little words (`of`, `the`) and trailing legal forms dropped,
    as many whole words as fit `room` px (the first cut to fit); `hirer` when nothing is left."""
    folded = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", folded.lower())
    words = [w for w in words if w not in LITTLE_WORDS] or words
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    if not words:
        return NAMELESS
    text = words[0]
    while len(text) > 1 and width(text) > room:
        text = text[:-1]
    for word in words[1:]:
        if width(f"{text}-{word}") > room:
            break
        text = f"{text}-{word}"
    return text


def make_key(hirer_id: str, name: str | None, taken: Collection[str] = ()) -> str:
    """The key `hirer_id` gets: as much of its name's slug as fits `KEY_PX` beside the last
    `TAIL` characters of its token, more of the token while the key is `taken`, then a number."""
    token = hirer_token(hirer_id)
    for length in range(min(TAIL, len(token)), len(token) + 1):
        tail = token[-length:]
        key = f"{slug(name, KEY_PX - width('-' + tail))}-{tail}"
        if key not in taken:
            return key
    base, number = slug(name, KEY_PX - width(f"-{token}-2")), 2
    while f"{base}-{token}-{number}" in taken:
        number += 1
    return f"{base}-{token}-{number}"
