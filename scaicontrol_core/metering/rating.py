"""Rating: from a period's usage and a plan's usage pricing to amounts in integer cents.

Pure functions, no I/O. For one metric:

* ``included_quantity`` units are free; the brackets price the rest (the *billable*
  quantity ``max(0, used - included_quantity)``).
* Bracket ``[tier_start, tier_end)`` covers billable units ``tier_start + 1`` up to and
  including ``tier_end`` (``tier_end`` is exclusive as a unit index, so a bracket
  ``[0, 1000)`` holds exactly 1000 units); ``tier_end`` None is open-ended.
* **graduated**: each bracket prices the units that fall inside it.
* **volume**: the bracket holding the last billable unit prices *every* billable unit.
* Rounding: units are billed in started blocks of ``unit_divisor`` units, rounded **up per
  bracket** (``ceil(units / unit_divisor) * unit_price_cents``). Amounts are integers
  throughout, so the line total is exactly the sum of its bracket amounts.
* Billable units beyond a closed last bracket are not billed (there is no price for them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ..catalog_records import Plan, TierMode, UsagePriceTier
from ..errors import ValidationError

__all__ = [
    "BracketCharge",
    "MetricPricing",
    "RatedLine",
    "pricing_for",
    "rate",
    "rate_plan",
]


@attrs.frozen(kw_only=True)
class MetricPricing:
    """The usage pricing of one metric of one plan, brackets ordered by ``tier_start``."""

    metric_slug: str
    tiers: tuple[UsagePriceTier, ...]
    mode: TierMode = TierMode.GRADUATED
    included_quantity: int = 0


@attrs.frozen(kw_only=True)
class BracketCharge:
    """The units one bracket billed and what they cost."""

    tier_start: int
    tier_end: int | None
    units: int
    blocks: int
    unit_price_cents: int
    amount_cents: int


@attrs.frozen(kw_only=True)
class RatedLine:
    """One invoice line's worth: usage, the free part, and the charge per bracket."""

    metric_slug: str
    used: int
    included: int
    billable: int
    unit_label: str
    amount_cents: int
    brackets: tuple[BracketCharge, ...]


def pricing_for(plan: Plan, metric_slug: str) -> MetricPricing | None:
    """The plan's pricing of ``metric_slug``; None when the plan does not price it."""
    tiers = tuple(sorted((t for t in plan.usage_pricing if t.metric_slug == metric_slug),
                         key=lambda t: t.tier_start))
    if not tiers:
        return None
    first = tiers[0]
    return MetricPricing(metric_slug=metric_slug, tiers=tiers, mode=first.tier_mode,
                         included_quantity=first.included_quantity)


def _charge(tier: UsagePriceTier, units: int) -> BracketCharge:
    blocks = -(-units // tier.unit_divisor)
    return BracketCharge(tier_start=tier.tier_start, tier_end=tier.tier_end, units=units,
                         blocks=blocks, unit_price_cents=tier.unit_price_cents,
                         amount_cents=blocks * tier.unit_price_cents)


def rate(used: int, pricing: MetricPricing) -> RatedLine:
    """Price ``used`` units of one metric (see the module notes for the rules)."""
    if type(used) is not int or used < 0:
        raise ValidationError("usage must be a non-negative integer", field="used")
    if not pricing.tiers:
        raise ValidationError("a metric pricing needs at least one bracket", field="tiers")
    included = min(used, pricing.included_quantity)
    billable = used - included
    charges: list[BracketCharge] = []
    if pricing.mode is TierMode.GRADUATED:
        for tier in pricing.tiers:
            top = billable if tier.tier_end is None else min(billable, tier.tier_end)
            units = max(0, top - tier.tier_start)
            if units:
                charges.append(_charge(tier, units))
    elif billable:
        for tier in pricing.tiers:
            if tier.tier_start < billable and (tier.tier_end is None or billable <= tier.tier_end):
                charges.append(_charge(tier, billable))
                break
    return RatedLine(
        metric_slug=pricing.metric_slug, used=used, included=included, billable=billable,
        unit_label=pricing.tiers[0].unit_label,
        amount_cents=sum(c.amount_cents for c in charges), brackets=tuple(charges),
    )


def rate_plan(plan: Plan, usage: Mapping[str, int]) -> list[RatedLine]:
    """One rated line per metric the plan prices, in metric order (0 usage when absent)."""
    metrics: Sequence[str] = sorted({t.metric_slug for t in plan.usage_pricing})
    lines = []
    for metric in metrics:
        pricing = pricing_for(plan, metric)
        assert pricing is not None
        lines.append(rate(usage.get(metric, 0), pricing))
    return lines
