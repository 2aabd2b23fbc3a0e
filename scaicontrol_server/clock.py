"""The real clock, used at the edge of the system (the core only ever receives ``now``)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["SystemClock"]


class SystemClock:
    """Reads the operating system's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
