"""The test hooks in production code: SIGKILL this process at a named point; switch the claims of
ATS creates off (a positive control).

Crash tests must kill a real `seek-sync` process at moments no outside signal can hit reliably
(between a DuckDB write and its COMMIT, say). Production code marks such a moment with
`kill_point("name")`; it does nothing unless `SEEK_SYNC_TEST_KILL_AT` names that point, which only
tests set. The sandbox's kill points (a client SIGKILLed after a call's effect, before its
response) need no hook here: the sandbox kills the calling process from outside.
"""

from __future__ import annotations

import os
import signal

KILL_AT_ENV = "SEEK_SYNC_TEST_KILL_AT"

# The points production code marks, by name.
MERGE_BEFORE_COMMIT = "merge-before-commit"  # journal rows written to the warehouse, not committed


def kill_point(name: str) -> None:
    """SIGKILL this process when `SEEK_SYNC_TEST_KILL_AT` names `name`; otherwise nothing."""
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


# Set (to anything) only by the positive control of the create-claims test: without the claim,
# two processes working hirers of one tenant can create one person twice.
NO_CREATE_CLAIMS_ENV = "SEEK_SYNC_TEST_NO_CREATE_CLAIMS"


def create_claims_enabled() -> bool:
    """Whether creates are claimed in the database first (always, unless a test says not)."""
    return not os.environ.get(NO_CREATE_CLAIMS_ENV)
