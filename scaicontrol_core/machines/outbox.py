"""Lifecycle of an outbox message: pending until a worker finishes it or gives it up."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from ._table import Machine

__all__ = ["OUTBOX_MESSAGE", "OutboxStatus", "OutboxTrigger"]


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class OutboxTrigger(enum.StrEnum):
    COMPLETE = "complete"
    RETRY = "retry"
    GIVE_UP = "give_up"
    REVIVE = "revive"


S, T = OutboxStatus, OutboxTrigger
TRANSITIONS: Final[Mapping[tuple[OutboxStatus, OutboxTrigger], OutboxStatus]] = {
    (S.PENDING, T.COMPLETE): S.DONE,
    (S.PENDING, T.RETRY): S.PENDING,
    (S.PENDING, T.GIVE_UP): S.DEAD,
    (S.DEAD, T.REVIVE): S.PENDING,
}

OUTBOX_MESSAGE: Final = Machine(
    "outbox_message", TRANSITIONS, states=OutboxStatus, triggers=OutboxTrigger, initial=S.PENDING
)
