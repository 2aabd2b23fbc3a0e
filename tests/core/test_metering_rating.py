"""Rating: included units, graduated and volume brackets, rounding, in integer cents."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_core.catalog_records import TierMode, UsagePriceTier
from scaicontrol_core.metering.rating import MetricPricing, rate


def pricing(mode: TierMode = TierMode.GRADUATED, included: int = 0,
            divisor: int = 1) -> MetricPricing:
    tiers = (
        UsagePriceTier(metric_slug="m", tier_start=0, tier_end=1000, unit_price_cents=10,
                       unit_label="unit", unit_divisor=divisor),
        UsagePriceTier(metric_slug="m", tier_start=1000, tier_end=5000, unit_price_cents=7,
                       unit_label="unit", unit_divisor=divisor),
        UsagePriceTier(metric_slug="m", tier_start=5000, unit_price_cents=4,
                       unit_label="unit", unit_divisor=divisor),
    )
    return MetricPricing(metric_slug="m", tiers=tiers, mode=mode, included_quantity=included)


def test_graduated_examples() -> None:
    """Each bracket prices its own units; the boundary unit belongs to the lower bracket."""
    assert rate(0, pricing()).amount_cents == 0
    assert rate(1000, pricing()).amount_cents == 10_000
    assert rate(1001, pricing()).amount_cents == 10_007
    assert rate(6000, pricing()).amount_cents == 10_000 + 4000 * 7 + 1000 * 4


def test_volume_examples() -> None:
    """The bracket of the last unit prices every unit."""
    volume = pricing(TierMode.VOLUME)
    assert rate(1000, volume).amount_cents == 10_000
    assert rate(1001, volume).amount_cents == 1001 * 7
    assert rate(5001, volume).amount_cents == 5001 * 4


def test_included_units_are_free() -> None:
    """Included units come off before the brackets apply."""
    line = rate(1500, pricing(included=1000))
    assert (line.included, line.billable, line.amount_cents) == (1000, 500, 5000)
    assert rate(999, pricing(included=1000)).amount_cents == 0


def test_started_blocks_round_up_per_bracket() -> None:
    """With a divisor of 100, 1 unit costs a whole block, in each bracket separately."""
    line = rate(1001, pricing(divisor=100))
    assert [b.blocks for b in line.brackets] == [10, 1]
    assert line.amount_cents == 10 * 10 + 7


usage = st.integers(0, 50_000)
modes = st.sampled_from(TierMode)


@given(used=usage, extra=st.integers(0, 5000), included=st.integers(0, 3000),
       divisor=st.integers(1, 250))
def test_graduated_is_monotone(used: int, extra: int, included: int, divisor: int) -> None:
    """More usage never costs less under graduated pricing."""
    p = pricing(included=included, divisor=divisor)
    assert rate(used + extra, p).amount_cents >= rate(used, p).amount_cents


@given(used=usage, mode=modes, included=st.integers(0, 3000), divisor=st.integers(1, 250))
def test_no_cent_is_lost(used: int, mode: TierMode, included: int, divisor: int) -> None:
    """The total equals the bracket amounts, each exactly blocks times price, and every
    billable unit is billed exactly once."""
    line = rate(used, pricing(mode, included, divisor))
    assert line.amount_cents == sum(b.amount_cents for b in line.brackets)
    for bracket in line.brackets:
        assert bracket.amount_cents == bracket.blocks * bracket.unit_price_cents
        assert bracket.blocks == -(-bracket.units // divisor)
    assert sum(b.units for b in line.brackets) == line.billable == max(0, used - included)


@given(boundary=st.sampled_from([1000, 5000]))
def test_tier_boundaries_are_exact(boundary: int) -> None:
    """Going from a boundary to one unit past it adds exactly one unit at the next price."""
    at, past = rate(boundary, pricing()), rate(boundary + 1, pricing())
    next_price = {1000: 7, 5000: 4}[boundary]
    assert past.amount_cents - at.amount_cents == next_price


@given(used=usage)
def test_volume_never_exceeds_graduated_at_falling_prices(used: int) -> None:
    """With prices falling by bracket, volume pricing is at most the graduated price and
    equals brute force: every unit at the price of the last unit's bracket."""
    volume, graduated = rate(used, pricing(TierMode.VOLUME)), rate(used, pricing())
    assert volume.amount_cents <= graduated.amount_cents
    price = 10 if used <= 1000 else 7 if used <= 5000 else 4
    assert volume.amount_cents == used * price
