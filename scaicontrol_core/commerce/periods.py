"""Billing period arithmetic: where the n-th period after an anchor ends.

Months are calendar months counted from the anchor, clamped to the end of shorter months
(an anchor on 31 January gives 28 or 29 February, then 31 March): counting from the anchor
rather than from the previous end keeps the day of month from drifting. Weeks are 7 days,
days 24 hours. ``one_time`` has no periods.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Final

from ..clock import ensure_utc
from ..errors import ValidationError
from ..events.common import BillingPeriod

__all__ = ["add_periods", "is_recurring", "next_period_end"]

_MONTHS: Final = {BillingPeriod.MONTHLY: 1, BillingPeriod.QUARTERLY: 3, BillingPeriod.YEARLY: 12}
_DAYS: Final = {BillingPeriod.WEEKLY: 7, BillingPeriod.DAILY: 1}


def is_recurring(period: BillingPeriod) -> bool:
    """Whether the billing period repeats (everything but ``one_time``)."""
    return period is not BillingPeriod.ONE_TIME


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_periods(anchor: datetime, period: BillingPeriod, count: int = 1) -> datetime:
    """The end of the ``count``-th period starting at ``anchor`` (count >= 0)."""
    if count < 0:
        raise ValidationError("a period count cannot be negative")
    anchor = ensure_utc(anchor)
    if period in _MONTHS:
        return _add_months(anchor, _MONTHS[period] * count)
    if period in _DAYS:
        return anchor + timedelta(days=_DAYS[period] * count)
    raise ValidationError("one_time plans have no billing periods", field="billing_period")


def next_period_end(anchor: datetime, period: BillingPeriod, current_end: datetime) -> datetime:
    """The first period boundary counted from ``anchor`` that lies after ``current_end``."""
    current_end = ensure_utc(current_end)
    count = 1
    if period in _MONTHS:
        # jump close to the answer instead of walking from the anchor one period at a time
        months = (current_end.year - anchor.year) * 12 + current_end.month - anchor.month
        count = max(1, months // _MONTHS[period])
    elif period in _DAYS:
        count = max(1, (current_end - ensure_utc(anchor)).days // _DAYS[period])
    while add_periods(anchor, period, count) <= current_end:
        count += 1
    while count > 1 and add_periods(anchor, period, count - 1) > current_end:
        count -= 1
    return add_periods(anchor, period, count)
