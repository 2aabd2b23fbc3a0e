"""Lifecycle of a single-service subscription: 8 states, the 16 documented transitions.

States and transitions are the contract's (state-machines §3.1). ``cancelled`` and
``expired`` are terminal; a tenant that wants the service again needs a new subscription.
Anything missing from :data:`TRANSITIONS` is refused with ``InvalidTransition`` (400
``bad_request`` at the API). A trigger names *why* the state changes; one trigger may lead
out of several states (``cancel`` ends a trialing, active, past-due or suspended
subscription), but every (from, to) pair has exactly one trigger.

:class:`SubscriptionStatus` is also the wire enum of the event payloads; it lives here so
the events package and the records can share it without an import cycle.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from ._table import Machine

__all__ = [
    "ENTITLED_STATES",
    "LIVE_STATES",
    "SUBSCRIPTION",
    "TRANSITIONS",
    "SubscriptionStatus",
    "SubscriptionTrigger",
    "trigger_between",
]


class SubscriptionStatus(enum.StrEnum):
    """Subscription (and pack subscription) states as stored and as they appear on the wire."""

    PENDING = "pending"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLING = "cancelling"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class SubscriptionTrigger(enum.StrEnum):
    ACTIVATE_TRIAL = "activate_trial"  # provisioning activated a plan with a trial
    ACTIVATE = "activate"  # provisioning activated a paid plan
    PROVISIONING_FAILED = "provisioning_failed"
    CONVERT = "convert"  # the trial ended with payment, or the customer converted early
    CANCEL = "cancel"  # ends it at once: trial cancel, or an operator's immediate cancel
    PAYMENT_FAILED = "payment_failed"  # a scheduled payment failed
    SCHEDULE_CANCELLATION = "schedule_cancellation"  # cancel at the end of the period
    EXPIRE = "expire"  # the term of a fixed-term plan ended
    PAYMENT_RECOVERED = "payment_recovered"  # a payment retry succeeded
    SUSPEND = "suspend"  # the dunning timer fired, or an operator suspended it
    RESUME = "resume"  # an operator resumed it once payment caught up
    REAP = "reap"  # the reaper ended a scheduled cancellation
    UNDO_CANCELLATION = "undo_cancellation"  # the scheduled cancellation was withdrawn


S, T = SubscriptionStatus, SubscriptionTrigger
TRANSITIONS: Final[Mapping[tuple[SubscriptionStatus, SubscriptionTrigger], SubscriptionStatus]] = {
    (S.PENDING, T.ACTIVATE_TRIAL): S.TRIALING,  # 1
    (S.PENDING, T.ACTIVATE): S.ACTIVE,  # 2
    (S.PENDING, T.PROVISIONING_FAILED): S.CANCELLED,  # 3
    (S.TRIALING, T.CONVERT): S.ACTIVE,  # 4
    (S.TRIALING, T.CANCEL): S.CANCELLED,  # 5
    (S.ACTIVE, T.PAYMENT_FAILED): S.PAST_DUE,  # 6
    (S.ACTIVE, T.SCHEDULE_CANCELLATION): S.CANCELLING,  # 7
    (S.ACTIVE, T.CANCEL): S.CANCELLED,  # 8
    (S.ACTIVE, T.EXPIRE): S.EXPIRED,  # 9
    (S.PAST_DUE, T.PAYMENT_RECOVERED): S.ACTIVE,  # 10
    (S.PAST_DUE, T.SUSPEND): S.SUSPENDED,  # 11
    (S.PAST_DUE, T.CANCEL): S.CANCELLED,  # 12
    (S.SUSPENDED, T.RESUME): S.ACTIVE,  # 13
    (S.SUSPENDED, T.CANCEL): S.CANCELLED,  # 14
    (S.CANCELLING, T.REAP): S.CANCELLED,  # 15
    (S.CANCELLING, T.UNDO_CANCELLATION): S.ACTIVE,  # 16
}

#: States in which the tenant may use the service (suspended refuses work).
ENTITLED_STATES: Final = frozenset({S.TRIALING, S.ACTIVE, S.PAST_DUE, S.CANCELLING})
#: Every state but the two terminal ones.
LIVE_STATES: Final = frozenset(set(S) - {S.CANCELLED, S.EXPIRED})

SUBSCRIPTION: Final = Machine(
    "subscription",
    TRANSITIONS,
    states=SubscriptionStatus,
    triggers=SubscriptionTrigger,
    initial=S.PENDING,
)


def trigger_between(
    machine: Machine[SubscriptionStatus, SubscriptionTrigger],
    source: SubscriptionStatus,
    target: SubscriptionStatus,
) -> SubscriptionTrigger | None:
    """The trigger of the documented transition ``source -> target``, if there is one."""
    for (state, trigger), reached in machine.transitions.items():
        if state is source and reached is target:
            return trigger
    return None
