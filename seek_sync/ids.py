"""SEEK hirer ids: the one check applied before an id becomes a routing key or a partition.

A hirer id is `<scheme>:organization:seek:<token>` (seek-api.md §1: live `seekAnz` and `global`,
Playground `seekAnzPublicTest` and `globalPublicTest`; e.g.
`seekAnzPublicTest:organization:seek:93WyyF1h`), the token ASCII letters and digits. Anything else
(NUL, bidi overrides, `../`, whitespace) is refused wherever an id enters: webhooks, the poller,
callback URLs, inbox writes and Dagster partitions.
"""

from __future__ import annotations

import re
import unicodedata

SCHEMES = ("seekAnz", "global", "seekAnzPublicTest", "globalPublicTest")
MAX_TOKEN_LENGTH = 64  # SEEK's are 8 characters; the cap only bounds what we store
_HIRER_ID = re.compile(
    rf"(?:{'|'.join(SCHEMES)}):organization:seek:[A-Za-z0-9]{{1,{MAX_TOKEN_LENGTH}}}"
)


class InvalidHirerIdError(ValueError):
    """A value that is not a SEEK hirer id; the message shows it only as a short ASCII repr."""

    def __init__(self, value: object) -> None:
        self.value = value
        super().__init__(f"not a SEEK hirer id: {shown(value)}")


def is_hirer_id(value: object) -> bool:
    """Whether `value` is a string of the form `<scheme>:organization:seek:<alphanumeric token>`."""
    # fullmatch with an explicit ASCII class: `$` would accept a trailing newline, \w non-ASCII.
    return isinstance(value, str) and _HIRER_ID.fullmatch(value) is not None


def check_hirer_id(value: object) -> str:
    """`value` if it is a hirer id; else `InvalidHirerIdError`."""
    if not is_hirer_id(value):
        raise InvalidHirerIdError(value)
    return value  # type: ignore[return-value]  # is_hirer_id checked it is a str


def shown(value: object, limit: int = 40) -> str:
    """A value safe to log: ASCII only (control and bidi characters escaped), at most `limit`
    characters of it, so a hostile id can neither forge log lines nor flood them."""
    text = ascii(value[:limit] if isinstance(value, str) else value)
    return text if len(text) <= 4 * limit + 2 else text[: 4 * limit] + "..."


def hirer_token(hirer_id: str) -> str:
    """The part of a hirer id that tells hirers apart (`93WyyF1h`); the prefix is shared."""
    return hirer_id.rsplit(":", 1)[-1]


def hirer_label(hirer_id: str, name: str | None, limit: int = 60) -> str:
    """`Name (token)` for previews, check metadata and logs: the name SEEK gives the hirer with
    control and format characters (bidi overrides) dropped and whitespace collapsed, at most
    `limit` characters; just the token when there is no name."""
    spaced = "".join(" " if c.isspace() else c for c in name or "")
    clean = "".join(c for c in spaced if unicodedata.category(c)[0] != "C")
    clean = " ".join(clean.split())
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    token = hirer_token(hirer_id)
    return f"{clean} ({token})" if clean else token
