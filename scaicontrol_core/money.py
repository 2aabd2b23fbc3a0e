"""Money as an integer count of minor units plus an ISO 4217 currency."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs

from .currencies import is_currency, minor_units
from .errors import ValidationError

__all__ = ["CurrencyMismatch", "Money"]


class CurrencyMismatch(ValidationError):
    """Arithmetic or comparison across two currencies."""


def _check_currency(_: Any, __: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not is_currency(value):
        raise ValidationError(f"'{value}' is not an ISO 4217 currency code", field="currency")


def _check_amount(_: Any, __: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int:
        raise ValidationError("amount must be an integer count of minor units", field="amount")


@attrs.frozen(order=False)
class Money:
    """An exact amount: ``Money(1999, "EUR")`` is EUR 19.99. Never holds a float."""

    amount: int = attrs.field(validator=_check_amount)
    currency: str = attrs.field(validator=_check_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str, currency: str) -> Money:
        """Parse a major-unit decimal ("19.99"); rejects more precision than the currency has."""
        quantum = Decimal(1).scaleb(-minor_units(currency)) if is_currency(currency) else None
        if quantum is None:
            raise ValidationError(f"'{currency}' is not an ISO 4217 currency code")
        amount = Decimal(value)
        if not amount.is_finite() or amount != amount.quantize(quantum):
            raise ValidationError(f"{value} has more precision than {currency} allows")
        return cls(int(amount.scaleb(minor_units(currency))), currency)

    def to_decimal(self) -> Decimal:
        """The amount in major units, e.g. ``Decimal("19.99")``."""
        return Decimal(self.amount).scaleb(-minor_units(self.currency))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if type(factor) is not int:
            raise TypeError("Money can only be multiplied by an int; use multiply() for rates")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def multiply(self, rate: Decimal | int) -> Money:
        """Multiply by an exact rate and round half-up to the minor unit."""
        if isinstance(rate, float):
            raise TypeError("rates must be Decimal or int, never float")
        exact = Decimal(self.amount) * Decimal(rate)
        return Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Split into parts proportional to ``ratios``; the parts always sum to ``self``.

        Remainders go one minor unit at a time to the parts with the largest fractional
        share (ties to the earlier part), so no cent is lost or invented.
        """
        if not ratios or any(type(r) is not int or r < 0 for r in ratios) or sum(ratios) == 0:
            raise ValidationError("ratios must be non-negative integers with a positive sum")
        total = sum(ratios)
        sign = -1 if self.amount < 0 else 1
        amount = abs(self.amount)
        shares = [amount * r // total for r in ratios]
        remainders = [amount * r % total for r in ratios]
        leftover = amount - sum(shares)
        order = sorted(range(len(ratios)), key=lambda i: (-remainders[i], i))
        for i in order[:leftover]:
            shares[i] += 1
        return [Money(sign * s, self.currency) for s in shares]

    @staticmethod
    def sum(items: Iterable[Money], currency: str) -> Money:
        """Add up ``items``; an empty iterable gives zero in ``currency``."""
        total = Money.zero(currency)
        for item in items:
            total = total + item
        return total

    def __str__(self) -> str:
        return f"{self.currency} {self.to_decimal()}"
