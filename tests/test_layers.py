"""The layering rules, read from the source: which packages may import what.

The library layers (`seek/`, `ats/`, `store/`, `runstate/`, `receiver/`, `pipeline/`, `http/`) know
nothing of Dagster; `seek/` and `ats/` never import each other (what they share lives in `http/`);
the sandbox is written from the API documents, so it imports neither of our clients.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "seek_sync"
NO_DAGSTER = (
    "seek", "ats", "store", "runstate", "receiver", "pipeline", "http", "sandbox", "proxy"
)  # fmt: skip
FORBIDDEN = {
    "seek": ("seek_sync.ats",),
    "ats": ("seek_sync.seek",),
    "sandbox": ("seek_sync.seek", "seek_sync.ats"),
    # The proxy opens no database and holds no ATS key: it streams from SEEK and stores nothing.
    "proxy": ("seek_sync.ats", "seek_sync.store", "seek_sync.runstate", "seek_sync.pipeline"),
}


def imported(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; this project uses no relative imports)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            names.add(node.module or "")
    return names


def modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", NO_DAGSTER)
def test_library_layers_import_no_dagster(package: str) -> None:
    found = {
        str(path.relative_to(PACKAGE)): name
        for path in modules(package)
        for name in imported(path)
        if name == "dagster" or name.startswith(("dagster.", "dagster_"))
    }
    assert modules(package) and found == {}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_keep_out_of_each_other(package: str) -> None:
    found = {
        str(path.relative_to(PACKAGE)): name
        for path in modules(package)
        for name in imported(path)
        if name.startswith(FORBIDDEN[package])
    }
    assert found == {}


def test_the_rule_reader_sees_imports(tmp_path: Path) -> None:
    """Positive control: a module that imports Dagster and the ATS package is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("import dagster as dg\nfrom seek_sync.ats.base import UploadRecord\n")
    assert imported(bad) == {"dagster", "seek_sync.ats.base"}
