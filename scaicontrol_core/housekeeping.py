"""Routine upkeep jobs, each a pure function of a unit of work and ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta

from .errors import ValidationError
from .ports import UnitOfWork

__all__ = ["purge_finished_outbox"]


def purge_finished_outbox(uow: UnitOfWork, *, now: datetime, retention: timedelta) -> int:
    """Delete outbox messages that finished more than ``retention`` before ``now``.

    Dead messages are never purged: they wait for an operator. Returns the count removed.
    """
    if retention <= timedelta(0):
        raise ValidationError("retention must be positive", field="retention")
    return uow.outbox.purge(finished_before=now - retention)
