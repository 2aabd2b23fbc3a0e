"""Architecture rules: the core does no I/O, dependencies point inward, exports are explicit."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_CORE = ("aiohttp", "httpx", "sqlalchemy", "alembic", "stripe", "mollie", "asyncio",
                     "socket", "ssl", "scaicontrol_adapters", "scaicontrol_server")


def _modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    return [package] + [m.name for m in pkgutil.walk_packages(pkg.__path__, package + ".")
                        if ".testing" not in m.name]


def test_core_imports_no_io_library() -> None:
    """Importing every core module in a fresh interpreter loads no I/O library."""
    modules = _modules("scaicontrol_core")
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print([m for m in {FORBIDDEN_IN_CORE!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("scaicontrol_core", {"scaicontrol_adapters", "scaicontrol_server"}),
        ("scaicontrol_server", {"scaicontrol_adapters"}),
        ("scaicontrol_adapters", {"scaicontrol_server"}),
    ],
)
def test_dependencies_point_inward(package: str, forbidden: set[str]) -> None:
    """No module of a package imports a sibling it must not know about."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) & forbidden)
        for path in (ROOT / package).rglob("*.py")
        if _imported_roots(path) & forbidden
    }
    assert offenders == {}


@pytest.mark.parametrize("package", ["scaicontrol_core", "scaicontrol_adapters",
                                     "scaicontrol_server"])
def test_every_module_declares_its_exports(package: str) -> None:
    """Every module has __all__, and every name in it exists."""
    missing = []
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts or path.name == "__main__.py":
            continue
        tree = ast.parse(path.read_text())
        names = [t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                 for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                 if isinstance(t, ast.Name)]
        if "__all__" not in names:
            missing.append(str(path.relative_to(ROOT)))
    assert missing == []
    if package != "scaicontrol_core":
        return  # the other packages need their extras to import; the AST check above suffices
    for name in _modules(package):
        module = importlib.import_module(name)
        for exported in getattr(module, "__all__", []):
            assert hasattr(module, exported), f"{name}.{exported}"


def test_core_depends_only_on_attrs_cattrs_pluggy() -> None:
    """Third-party imports in the core are limited to attrs, cattrs and pluggy."""
    stdlib = set(sys.stdlib_module_names)
    allowed = {"attrs", "cattrs", "pluggy", "scaicontrol_core", "pytest", "hypothesis"}
    for path in (ROOT / "scaicontrol_core").rglob("*.py"):
        roots = _imported_roots(path) - stdlib - allowed
        if "testing" not in path.parts:
            assert not roots & {"pytest", "hypothesis"}, path
        assert roots == set(), f"{path}: {roots}"
