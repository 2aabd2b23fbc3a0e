"""Money: exact integer arithmetic within one currency, and lossless allocation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_core.currencies import MINOR_UNITS
from scaicontrol_core.errors import ValidationError
from scaicontrol_core.money import CurrencyMismatch, Money

amounts = st.integers(min_value=-(10**15), max_value=10**15)
currencies = st.sampled_from(sorted(MINOR_UNITS))


def test_rejects_unknown_currency_and_non_integer_amounts() -> None:
    """Only ISO 4217 codes and int amounts are accepted; floats and bools are refused."""
    with pytest.raises(ValidationError):
        Money(100, "EURO")
    with pytest.raises(ValidationError):
        Money(100, "eur")
    with pytest.raises(ValidationError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Money(True, "EUR")


def test_cross_currency_operations_raise() -> None:
    """Adding, subtracting or comparing EUR with USD is an error, never a silent result."""
    eur, usd = Money(100, "EUR"), Money(100, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = eur + usd
    with pytest.raises(CurrencyMismatch):
        _ = eur - usd
    with pytest.raises(CurrencyMismatch):
        _ = eur < usd
    assert eur != usd


def test_decimal_conversion_respects_minor_units() -> None:
    """EUR has 2 decimals, JPY none and KWD three; excess precision is refused."""
    assert Money.from_decimal("19.99", "EUR") == Money(1999, "EUR")
    assert Money.from_decimal("1500", "JPY") == Money(1500, "JPY")
    assert Money.from_decimal("1.234", "KWD") == Money(1234, "KWD")
    assert Money(1999, "EUR").to_decimal() == Decimal("19.99")
    with pytest.raises(ValidationError):
        Money.from_decimal("19.999", "EUR")
    with pytest.raises(ValidationError):
        Money.from_decimal("NaN", "EUR")
    assert str(Money(-5, "EUR")) == "EUR -0.05"


def test_multiply_rounds_half_up_and_refuses_floats() -> None:
    """Rates are exact decimals, rounded half-up to the minor unit."""
    assert Money(1000, "EUR").multiply(Decimal("0.21")) == Money(210, "EUR")
    assert Money(5, "EUR").multiply(Decimal("0.5")) == Money(3, "EUR")
    assert Money(-5, "EUR").multiply(Decimal("0.5")) == Money(-3, "EUR")
    assert Money(3, "EUR") * 3 == Money(9, "EUR")
    with pytest.raises(TypeError):
        Money(5, "EUR").multiply(0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _ = Money(5, "EUR") * 1.5  # type: ignore[operator]


@given(a=amounts, b=amounts, c=amounts, currency=currencies)
def test_addition_is_exact_associative_and_commutative(
    a: int, b: int, c: int, currency: str
) -> None:
    """Integer minor units make addition exact, in any order."""
    x, y, z = Money(a, currency), Money(b, currency), Money(c, currency)
    assert (x + y) + z == x + (y + z) == Money(a + b + c, currency)
    assert x + y == y + x
    assert x - x == Money.zero(currency)
    assert -x + x == Money.zero(currency)


@given(
    amount=amounts,
    ratios=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(
        lambda r: sum(r) > 0
    ),
)
def test_allocation_never_loses_or_invents_a_cent(amount: int, ratios: list[int]) -> None:
    """Parts sum to the whole and each is within one minor unit of its exact share."""
    parts = Money(amount, "EUR").allocate(ratios)
    assert sum(p.amount for p in parts) == amount
    total = sum(ratios)
    for part, ratio in zip(parts, ratios, strict=True):
        exact = Decimal(amount) * ratio / total
        assert abs(Decimal(part.amount) - exact) < 1
        if ratio == 0:
            assert part.amount == 0


def test_allocation_examples_and_bad_ratios() -> None:
    """A euro in three goes 34/33/33; ratios must be non-negative with a positive sum."""
    assert [m.amount for m in Money(100, "EUR").allocate([1, 1, 1])] == [34, 33, 33]
    assert [m.amount for m in Money(-100, "EUR").allocate([1, 1, 1])] == [-34, -33, -33]
    assert [m.amount for m in Money(5, "EUR").allocate([3, 7])] == [2, 3]
    for bad in ([], [0, 0], [-1, 2]):
        with pytest.raises(ValidationError):
            Money(100, "EUR").allocate(bad)


def test_sum_and_truthiness() -> None:
    """Money.sum adds a list in one currency; zero is falsy."""
    assert Money.sum([Money(1, "EUR"), Money(2, "EUR")], "EUR") == Money(3, "EUR")
    assert Money.sum([], "USD") == Money(0, "USD")
    assert not Money.zero("EUR")
    assert Money(1, "EUR")
