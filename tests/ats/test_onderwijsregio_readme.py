"""docs/ats.md "ATS assumptions" lists every Onderwijsregio assumption: each constant of the fake's
ASSUMPTIONS block, each client setting that holds one, and each test named after one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from seek_sync.sandbox import onderwijsregio_schema
from seek_sync.settings import ReceiverSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
NOT_ASSUMPTIONS = {"onderwijsregio_url", "onderwijsregio_api_key", "onderwijsregio_callback_secret"}


def section() -> str:
    text = (ROOT / "docs" / "ats.md").read_text(encoding="utf-8")
    return text[text.index("## ATS assumptions") :]


def assumption_constants() -> list[str]:
    source = Path(onderwijsregio_schema.__file__).read_text(encoding="utf-8")
    block = source[source.index("# --- ASSUMPTIONS") : source.index("class OnderwijsregioConfig")]
    return re.findall(r"^([A-Z][A-Z0-9_]+) = ", block, re.MULTILINE)


def assumption_tests() -> list[str]:
    names = []
    for path in sorted((ROOT / "tests").rglob("test_onderwijsregio*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            is_test = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_test and node.name.startswith("test_assumption_"):
                names.append(node.name)
    return names


def test_readme_lists_every_onderwijsregio_assumption() -> None:
    readme = section()
    constants = assumption_constants()
    assert len(constants) >= 15
    assert [c for c in constants if f"`{c}`" not in readme] == []
    settings = [
        "SEEK_SYNC_" + name.upper()
        for name in {**Settings.model_fields, **ReceiverSettings.model_fields}
        if name.startswith("onderwijsregio_") and name not in NOT_ASSUMPTIONS
    ]
    assert len(settings) == 12
    assert [s for s in settings if f"`{s}`" not in readme] == []
    tests = assumption_tests()
    assert len(tests) >= 25
    assert [t for t in tests if f"`{t}`" not in readme] == []
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", readme))
    defined = {
        node.name
        for path in (ROOT / "tests").rglob("test_*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assert sorted(named - defined) == []  # no stale test names
    for code in ("callbacks.signing_string", "MutationCallback", "callback_signing_string"):
        assert code in readme
    assert "### Kombo" in readme
