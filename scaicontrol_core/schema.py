"""The record kinds storage must hold, with their tenant scoping.

Adapters build one repository per entry; adding a record kind means adding it here, to the
:class:`~scaicontrol_core.ports.UnitOfWork` protocol, and to each adapter's schema.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from .records import Partner, Tenant

__all__ = ["RECORD_KINDS", "RecordKind", "record_kind"]


@attrs.frozen(kw_only=True)
class RecordKind:
    """``name`` is the unit-of-work attribute and table name; ``label`` names it in errors."""

    name: str
    label: str
    record_type: type[Any]
    tenant_scoped: bool = False


RECORD_KINDS: Final[tuple[RecordKind, ...]] = (
    RecordKind(name="partners", label="Partner", record_type=Partner),
    RecordKind(name="tenants", label="Tenant", record_type=Tenant),
)


def record_kind(name: str) -> RecordKind:
    """Look a record kind up by its attribute name."""
    for kind in RECORD_KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)
