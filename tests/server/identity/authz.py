"""The authorization matrix's vocabulary: callers, cases, and the derived expectation.

Capabilities add their cases in their own module next to this one, named
``authz_cases_<capability>.py`` and exporting ``CASES: dict[(method, full_path), Case]``;
the matrix test merges every such module with its own table.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from scaicontrol_core.access import ROLE_SCOPES, Role
from scaicontrol_server.api import AUTHENTICATED, PUBLIC, Endpoint

__all__ = ["CALLERS", "Case", "expected", "extra_cases", "needs_case"]

CALLERS = ("anonymous", "tenant_user", "tenant_admin", "partner_admin", "super_admin")
Body = Any | Callable[[str], Any]


@attrs.frozen(kw_only=True)
class Case:
    """How to reach an endpoint's handler: path values, a query string, a JSON body (or a
    function of the caller's role returning one), and per-role status overrides."""

    path: Mapping[str, str] = attrs.field(factory=dict)
    query: str = ""
    body: Body = None
    expect: Mapping[str, int] = attrs.field(factory=dict)


def needs_case(endpoint: Endpoint) -> bool:
    """Whether a bare request cannot reach the handler: path values or a body are needed."""
    return bool(endpoint.path_params) or endpoint.body_schema is not None


def expected(endpoint: Endpoint, caller: str, case: Case) -> int:
    """The status the matrix demands for this caller."""
    if caller in case.expect:
        return case.expect[caller]
    if endpoint.access == PUBLIC:
        return endpoint.status
    if caller == "anonymous":
        return 401
    role = Role(caller)
    if endpoint.access == AUTHENTICATED or role is Role.SUPER_ADMIN:
        return endpoint.status
    return endpoint.status if endpoint.access in ROLE_SCOPES[role] else 403


def extra_cases() -> dict[tuple[str, str], Case]:
    """Cases from every ``authz_cases_*.py`` module in this folder (which may import
    ``Case`` with ``from .authz import Case``)."""
    package = __name__.rpartition(".")[0]
    found: dict[tuple[str, str], Case] = {}
    for path in sorted(Path(__file__).parent.glob("authz_cases_*.py")):
        name = f"{package}.{path.stem}" if package else path.stem
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        overlap = set(found) & set(module.CASES)
        assert not overlap, f"{path.name} repeats cases: {overlap}"
        found.update(module.CASES)
    return found
