"""Helpers shared by storage adapters for filters, ordering and version checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .errors import ValidationError
from .ports import Where

__all__ = ["is_multi", "matches", "parse_order", "sort_records"]


def is_multi(value: object) -> bool:
    """Whether a filter value means "one of" rather than equality."""
    return isinstance(value, (list, tuple, set, frozenset))


def matches(record: Any, where: Where | None) -> bool:
    """Whether ``record`` satisfies every equality / membership filter in ``where``."""
    for field, wanted in (where or {}).items():
        actual = getattr(record, field)
        if is_multi(wanted):
            if actual not in wanted:  # type: ignore[operator]
                return False
        elif actual != wanted:
            return False
    return True


def parse_order(order_by: Sequence[str], fields: Iterable[str]) -> list[tuple[str, bool]]:
    """``["-created_at", "id"]`` -> ``[("created_at", True), ("id", False)]``, checked."""
    known = set(fields)
    parsed = []
    for item in order_by:
        descending = item.startswith("-")
        name = item[1:] if descending else item
        if name not in known:
            raise ValidationError(f"cannot order by unknown field '{name}'", field=name)
        parsed.append((name, descending))
    return parsed


def _sort_key(name: str) -> Callable[[Any], tuple[bool, Any]]:
    def key(record: Any) -> tuple[bool, Any]:
        value = getattr(record, name)
        return (value is not None, value)

    return key


def sort_records(records: list[Any], order: list[tuple[str, bool]]) -> list[Any]:
    """Stable multi-key sort; ``None`` counts as smaller than any value. Ties break on ``id``
    so paging is deterministic, as on the SQL backend."""
    result = list(records)
    if result and hasattr(result[0], "id"):
        result.sort(key=_sort_key("id"))
    for name, descending in reversed(order):
        result.sort(key=_sort_key(name), reverse=descending)
    return result
