"""What all payloads share: the base class, the wire enums and the recurring patterns."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from ..currencies import is_currency
from ..errors import ValidationError
from ..machines.subscription import SubscriptionStatus  # the machine's states
from ._model import check_instance
from .topics import Topic

__all__ = [
    "COUNTRY_PATTERN",
    "CURRENCY_PATTERN",
    "CUSTOMER_ID_PATTERN",
    "ENTITY_ID_PATTERN",
    "PARTNER_ID_PATTERN",
    "PLAN_KEY_PATTERN",
    "SLUG_PATTERN",
    "TENANT_ID_PATTERN",
    "TENANT_OWNER_RULE",
    "BillingPeriod",
    "ChangeKind",
    "EventPayload",
    "OwnerKind",
    "SubscriptionStatus",
    "SuspensionReason",
    "TerminalState",
    "check_customer",
    "monthly_recurring_cents",
]

TENANT_ID_PATTERN: Final = r"^tnt_[A-Za-z0-9_]{1,32}$"
PARTNER_ID_PATTERN: Final = r"^prt_[A-Za-z0-9_]{1,32}$"
CUSTOMER_ID_PATTERN: Final = r"^(tnt|prt)_[A-Za-z0-9_]{1,32}$"
#: Ids native to scaicontrol (UUID strings) and other resource ids used in keys.
ENTITY_ID_PATTERN: Final = r"^[A-Za-z0-9_.\-]{1,64}$"
CURRENCY_PATTERN: Final = r"^[A-Z]{3}$"
COUNTRY_PATTERN: Final = r"^[A-Z]{2}$"
SLUG_PATTERN: Final = r"^[a-z0-9][a-z0-9_\-]*$"
#: ``<service_slug>.<plan_slug>``, e.g. ``scaikey.starter``.
PLAN_KEY_PATTERN: Final = r"^[a-z0-9][a-z0-9_\-]*\.[a-z0-9][a-z0-9_\-]*$"


class OwnerKind(enum.StrEnum):
    """Who owns (and pays for) a subscription."""

    TENANT = "tenant"
    PARTNER = "partner"


class ChangeKind(enum.StrEnum):
    """Discriminator of ``subscription.changed``."""

    PLAN_CHANGE = "plan_change"
    QUANTITY_CHANGE = "quantity_change"
    RENEWAL = "renewal"
    SCHEDULED_CANCELLATION = "scheduled_cancellation"
    SCHEDULED_CANCELLATION_UNDONE = "scheduled_cancellation_undone"
    STATUS_CHANGE = "status_change"


class TerminalState(enum.StrEnum):
    """How a subscription ended: cancelled, or ran out at the end of a fixed term."""

    CANCELLED = "cancelled"
    EXPIRED = "expired"


class SuspensionReason(enum.StrEnum):
    """Why a subscription was suspended."""

    ADMIN = "admin"
    DUNNING = "dunning"


class BillingPeriod(enum.StrEnum):
    """Billing cadence of a plan or pack (``weekly`` and ``daily`` exist for MRR only)."""

    MONTHLY = "monthly"
    YEARLY = "yearly"
    QUARTERLY = "quarterly"
    WEEKLY = "weekly"
    DAILY = "daily"
    ONE_TIME = "one_time"


# (multiplier, divisor) turning a price per period into a monthly amount.
_MRR_FACTORS: Final[Mapping[BillingPeriod, tuple[int, int]]] = {
    BillingPeriod.MONTHLY: (1, 1),
    BillingPeriod.YEARLY: (1, 12),
    BillingPeriod.QUARTERLY: (1, 3),
    BillingPeriod.WEEKLY: (4, 1),
    BillingPeriod.DAILY: (30, 1),
    BillingPeriod.ONE_TIME: (1, 1),
}


def monthly_recurring_cents(price_cents: int, billing_period: BillingPeriod) -> int:
    """Normalise a price per period to ``mrr_amount_cents``, rounding half up to a cent.

    monthly = price; yearly = price / 12; quarterly = price / 3; weekly = price x 4;
    daily = price x 30; one_time = price (passed through for the consumer to interpret).
    """
    if type(price_cents) is not int or price_cents < 0:
        raise ValidationError("price_cents must be a non-negative integer", field="price_cents")
    multiplier, divisor = _MRR_FACTORS[BillingPeriod(billing_period)]
    return (2 * price_cents * multiplier + divisor) // (2 * divisor)


class EventPayload:
    """Base of every topic's ``data`` class.

    Subclasses are ``attrs.frozen(kw_only=True)`` classes that set ``TOPIC`` and define
    :attr:`resource_id` and :attr:`lifecycle_step`, from which the idempotency key is made.
    Field values are checked against their declarations on construction.
    """

    __slots__ = ()

    TOPIC: ClassVar[Topic]
    #: JSON Schema fragments for rules across fields; published as ``allOf``.
    SCHEMA_RULES: ClassVar[tuple[Mapping[str, Any], ...]] = ()

    def __attrs_post_init__(self) -> None:
        check_instance(self)
        self.check_rules()

    def check_rules(self) -> None:
        """Rules across fields; subclasses extend it and raise ``ValidationError``."""
        currency = getattr(self, "currency", None)
        if currency is not None and not is_currency(currency):
            raise ValidationError(f"{currency!r} is not an ISO 4217 currency", field="currency")

    @property
    def resource_id(self) -> str:
        """Second segment of the idempotency key."""
        raise NotImplementedError

    @property
    def lifecycle_step(self) -> str:
        """Fourth segment of the idempotency key: which occurrence of the event this is."""
        raise NotImplementedError

    @property
    def tenant_scope(self) -> str | None:
        """The tenant the event belongs to, if any (outbox scoping); partner events have none."""
        value = getattr(self, "tenant_id", None)
        return value if isinstance(value, str) else None


def check_customer(
    owner_kind: OwnerKind, tenant_id: str | None, partner_id: str, customer_id: str
) -> None:
    """``scaicontrol_customer_id`` is the tenant for tenant-owned, the partner otherwise."""
    if owner_kind is OwnerKind.TENANT:
        if tenant_id is None:
            raise ValidationError(
                "a tenant-owned subscription needs a tenant_id", field="tenant_id"
            )
        expected = tenant_id
    else:
        expected = partner_id
    if customer_id != expected:
        raise ValidationError(
            f"scaicontrol_customer_id must equal the {owner_kind.value} id",
            field="scaicontrol_customer_id",
        )


#: JSON Schema rule: a tenant-owned subscription carries a non-null ``tenant_id``.
TENANT_OWNER_RULE: Final[Mapping[str, Any]] = {
    "if": {"properties": {"owner_kind": {"const": "tenant"}}},
    "then": {"properties": {"tenant_id": {"type": "string"}}},
}
