"""The server reaches adapters only through plugins: it never imports scaicontrol_adapters."""

from __future__ import annotations

import ast
from pathlib import Path

import scaicontrol_server

PACKAGE = Path(scaicontrol_server.__file__).resolve().parent
FORBIDDEN = "scaicontrol_adapters"


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args:
            # importlib.import_module("...") and __import__("...") with a literal name
            target = node.func
            called = target.attr if isinstance(target, ast.Attribute) else getattr(
                target, "id", "")
            first = node.args[0]
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant):
                names = [str(first.value)]
        line = getattr(node, "lineno", 0)
        found += [f"{path.name}:{line}" for name in names
                  if name.split(".")[0] == FORBIDDEN]
    return found


def test_no_server_module_imports_the_adapters() -> None:
    """No file under scaicontrol_server imports scaicontrol_adapters, statically or by name."""
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    assert [offence for path in files for offence in _offences(path)] == []


def test_the_scan_would_notice_an_import(tmp_path: Path) -> None:
    """The scanner flags each import form it is meant to catch."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import scaicontrol_adapters\n"
        "from scaicontrol_adapters.storage import memory\n"
        "import importlib\nimportlib.import_module('scaicontrol_adapters.storage')\n"
        "__import__('scaicontrol_adapters')\n"
    )
    assert len(_offences(sample)) == 4
