"""The words for where uploads stand: each means one thing, and is defined once (`ats/base.py`).

`settled`: the outcome is final, never sent again. `unsettled`: still on its way (to send, or
waiting). `waiting`: sent and taken by the ATS, outcome not known yet. `not sent`: settled without
the ATS holding our file. `done`, once a second name for settled, is no longer a state word.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import seek_sync
from seek_sync.ats.base import NOT_SENT, SETTLED, UNSETTLED, WAITING, UploadRecord, UploadState

PACKAGE = Path(seek_sync.__file__).parent
STATES = frozenset(get_args(UploadState))
WORDS = {"SETTLED", "UNSETTLED", "WAITING", "NOT_SENT", "DONE", "SETTLED_UPLOAD"}
# Two upload states quoted in a row: a list of states written out again (SQL or Python).
STATE_LIST = re.compile(r"'({0})',\s*'({0})'".format("|".join(sorted(STATES))))


def test_settled_and_unsettled_split_the_upload_states() -> None:
    assert {"confirmed", "rejected", "failed"} == SETTLED
    assert SETTLED | UNSETTLED == STATES and not SETTLED & UNSETTLED


def test_waiting_is_unsettled_but_sent_and_not_sent_is_settled_but_not_held() -> None:
    assert WAITING == UNSETTLED - {"pending"} == {"accepted"}
    assert SETTLED - {"confirmed"} == NOT_SENT


def record() -> UploadRecord:
    return UploadRecord(target="kombo", hirer_id="h", attachment_id="a")


def test_the_records_own_transitions_land_where_the_words_say() -> None:
    now, upload = datetime.now(UTC), record()
    assert upload.state in UNSETTLED - WAITING  # a new upload: to send
    upload.sent("key", now)
    upload.accepted()
    assert upload.state in WAITING
    upload.confirmed("ats-1")
    assert upload.state in SETTLED - NOT_SENT
    upload = record()
    upload.sent("key", now)
    upload.send_failed("500", max_sends=2)
    assert upload.state in UNSETTLED - WAITING  # sent again, under a fresh key
    upload.sent("key-2", now)
    upload.send_failed("500", max_sends=2)
    assert upload.state in NOT_SENT  # given up at the cap
    upload = record()
    upload.rejected("type not allowed")
    assert upload.state in NOT_SENT


def sources() -> dict[str, ast.Module]:
    """Every module of the package but the sandbox (whose fakes keep their own states)."""
    return {
        str(path.relative_to(PACKAGE)): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "sandbox" not in path.parts
    }


def test_each_word_is_defined_once_and_no_list_of_states_is_written_again() -> None:
    defined: dict[str, list[str]] = {}
    written: list[str] = []
    for name, tree in sources().items():
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in WORDS:
                    defined.setdefault(target.id, []).append(name)
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and STATE_LIST.search(text):
                written.append(f"{name}: {text.strip()[:60]}")
            if isinstance(node, ast.Tuple | ast.List | ast.Set) and name != "ats/base.py":
                values = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if len(values & STATES) >= 2:
                    written.append(f"{name}:{node.lineno}")
    assert defined == {w: ["ats/base.py"] for w in ("SETTLED", "UNSETTLED", "WAITING", "NOT_SENT")}
    assert written == []


def test_the_search_finds_a_list_written_again() -> None:
    """Positive control for the search above."""
    assert STATE_LIST.search("state NOT IN ('confirmed', 'rejected', 'failed')")
    tree = ast.parse('DONE = ("confirmed", "failed")')
    [node] = tree.body
    assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple)
    assert {e.value for e in node.value.elts if isinstance(e, ast.Constant)} <= STATES
