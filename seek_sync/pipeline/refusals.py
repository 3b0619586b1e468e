"""Which upload refusals are final by design (no Dagster).

A file our policy or the target's own rules refuse before sending (an executable, an archive, a
file over the size limit, a type the ATS does not take) is recorded `rejected` with its reason and
is never sent: nobody can or should do anything about it, so it is reported (counts by reason) but
keeps no check failing. Any other refusal (a reason not listed here, a refusal the ATS answered)
and any upload given up after its retries (`failed`) needs a person.
"""

from __future__ import annotations

import re

# The kind of each final refusal, by the reason the refusing code records (file_policy.py,
# ats/onderwijsregio.py, ats/kombo_files.py).
FINAL_REFUSALS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("executable", re.compile(r"; seek-sync never sends executables$")),
    ("archive", re.compile(r"; seek-sync never sends archives$")),
    ("over the size limit", re.compile(r"^\d+ bytes is over the .*limit")),
    (
        "type not accepted",
        re.compile(
            r"^type .+ is not on Onderwijsregio's allow-list$"
            r"|^type .+ is not in the integration's accepted types for "
            r"|^content type .+ is not a MIME type Kombo accepts$"
        ),
    ),
    ("kind not supported", re.compile(r"^the Kombo integration does not support .+ attachments$")),
)


def final_refusal(state: str, reason: str | None) -> str | None:
    """The kind of a refusal that is final by design (`executable`, `archive`, ...), else None."""
    if state != "rejected" or not reason:
        return None
    for kind, pattern in FINAL_REFUSALS:
        if pattern.search(reason):
            return kind
    return None
