"""The one cattrs converter: wire and storage forms of core values.

Adapters add hooks for their own types through the ``scaicontrol_configure_converter`` hook.
Primitives are strict: a JSON number is never accepted where a string is expected, a bool is
never an int, and datetimes must carry a timezone.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import cattrs

from .clock import ensure_utc, isoformat
from .money import Money

__all__ = ["make_converter"]


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _structure_int(value: Any, _: type) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if type(value) is not bool:
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value


def _structure_float(value: Any, _: type) -> float:
    if type(value) not in (int, float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _structure_decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise TypeError("expected a decimal string")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a decimal number") from None
    if not result.is_finite():
        raise ValueError("decimal numbers must be finite")
    return result


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        return ensure_utc(value)
    if not isinstance(value, str):
        raise TypeError("expected an ISO 8601 datetime string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not an ISO 8601 datetime") from None
    return ensure_utc(parsed)


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"expected one of {[m.value for m in cls]}")
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in cls)
        raise ValueError(f"{value!r} is not one of {allowed}") from None


def _structure_money(value: Any, _: type) -> Money:
    if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
        raise TypeError("expected an object with 'amount' and 'currency'")
    return Money(_structure_int(value["amount"], int), _structure_str(value["currency"], str))


def make_converter() -> cattrs.Converter:
    """A fresh converter with detailed validation; never cattrs' global one."""
    converter = cattrs.Converter(detailed_validation=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(float, _structure_float)
    # StrEnum and IntEnum come before str and int in their MRO, so they need their own entry.
    for base in (enum.Enum, enum.StrEnum, enum.IntEnum):
        converter.register_structure_hook(base, _structure_enum)
        converter.register_unstructure_hook(base, lambda member: member.value)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime, isoformat)
    converter.register_structure_hook(Money, _structure_money)
    converter.register_unstructure_hook(
        Money, lambda m: {"amount": m.amount, "currency": m.currency}
    )
    return converter
