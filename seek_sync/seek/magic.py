"""puremagic's signature matching with its header table indexed once: the same answers, faster.

`puremagic.magic_string` compares each of its ~1,400 header signatures with the sample in a Python
loop: about 2 ms a file, more than the download of a typical attachment costs. Here the header
signatures are grouped once by (offset, length), so a sample costs one slice and one dict lookup
per group (~140). The footer and multi-part signatures and the confidence order are puremagic's
own steps, applied to the same matches in the same order. puremagic is pinned; tests/seek/
test_magic.py holds this to `magic_string`'s answers on every kind of file we sniff.
"""

from __future__ import annotations

from functools import cache

from puremagic import main as pm

_Group = tuple[int, int, dict[bytes, list[tuple[int, pm.PureMagic]]]]


@cache
def _header_groups() -> list[_Group]:
    groups: dict[tuple[int, int], dict[bytes, list[tuple[int, pm.PureMagic]]]] = {}
    for position, row in enumerate(pm.magic_header_array):
        rows = groups.setdefault((row.offset, len(row.byte_match)), {})
        rows.setdefault(row.byte_match, []).append((position, row))
    return [(offset, length, rows) for (offset, length), rows in groups.items()]


def _header_matches(header: bytes) -> list[pm.PureMagic]:
    hits: list[tuple[int, pm.PureMagic]] = []
    for offset, length, rows in _header_groups():
        end = offset + length
        if end <= len(header):
            hits += rows.get(header[offset:end], ())
    return [row for _, row in sorted(hits, key=lambda hit: hit[0])]  # puremagic's table order


def _multi_part(matches: list[pm.PureMagic], header: bytes, footer: bytes) -> set[pm.PureMagic]:
    """puremagic's second step: longer signatures that continue a first match."""
    found = set()
    for matched in matches:
        for row in pm.multi_part_dict.get(matched.byte_match, ()):
            start, end = row.offset, row.offset + len(row.byte_match)
            if row.offset < 0:
                if (footer[start:end] if end != 0 else footer[start:]) != row.byte_match:
                    continue
                byte_match = matched.byte_match + row.byte_match
            elif end > len(header) or header[start:end] != row.byte_match:
                continue
            else:
                byte_match = header[matched.offset : end]
            found.add(pm.PureMagic(byte_match, row.offset, row.extension, row.mime_type, row.name))
    return found


def magic_string(sample: bytes) -> list[pm.PureMagicWithConfidence]:
    """As `puremagic.magic_string(sample)` (no filename): best match first; `PureError` if none,
    ValueError if `sample` is empty."""
    if not sample:
        raise ValueError("Input was empty")
    header, footer = pm._string_details(sample)
    matches = _header_matches(header)
    for row in pm.magic_footer_array:
        start, end = row.offset, row.offset + len(row.byte_match)
        if (footer[start:end] if end != 0 else footer[start:]) == row.byte_match:
            matches.append(row)
    matches.extend(list(_multi_part(matches, header, footer)))
    found = pm._confidence(matches)
    found.sort(key=lambda match: match.confidence, reverse=True)
    return found
