"""Time enters the core only as an argument or through a :class:`Clock`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from .errors import ValidationError

__all__ = ["Clock", "ManualClock", "ensure_utc", "isoformat"]


class Clock(Protocol):
    """Tells the current time as a timezone-aware UTC datetime."""

    def now(self) -> datetime: ...


def ensure_utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; naive datetimes are refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError("datetimes must carry a timezone")
    return moment.astimezone(UTC)


def isoformat(moment: datetime) -> str:
    """The wire form: ISO 8601 in UTC with an explicit ``+00:00`` offset."""
    return ensure_utc(moment).isoformat()


class ManualClock:
    """A clock that only moves when told to; the base of simulated time."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        moment = ensure_utc(moment)
        if moment < self._now:
            raise ValidationError("a manual clock never moves backwards")
        self._now = moment

    def advance(self, delta: timedelta) -> datetime:
        self.set(self._now + delta)
        return self._now
