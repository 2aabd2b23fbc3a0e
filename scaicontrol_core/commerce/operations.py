"""Building blocks that work inside one open unit of work.

The services open a unit of work, call these, and commit once; the demo data set and the
lifecycle jobs use them too. Every function that changes a subscription also appends its
events to the outbox in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from ..catalog_records import PackSubscription, Plan, ServicePack, Subscription
from ..errors import Conflict, NotFound, ValidationError
from ..events import EventPayload, build_event
from ..ids import IdFactory
from ..machines.subscription import LIVE_STATES
from ..notifications.recording import record_event
from ..ports import UnitOfWork
from ..records import OrgStatus, Tenant
from .lifecycle import Change
from .packs import PackChange
from .reach import Reach

__all__ = [
    "MAX_REASON_LENGTH",
    "billing_profile_exists",
    "check_reason",
    "children_of",
    "ensure_can_buy",
    "find_pack",
    "find_plan",
    "lock_tenant",
    "plans_of_pack",
    "record_events",
    "require_pack_subscription",
    "require_subscription",
    "save_change",
    "save_pack_change",
]


MAX_REASON_LENGTH = 500


def check_reason(reason: str | None) -> str | None:
    """A cancellation or suspension reason: at most 500 characters; empty means none."""
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(f"reason must be at most {MAX_REASON_LENGTH} characters",
                              field="reason")
    return reason or None


def record_events(uow: UnitOfWork, ids: IdFactory, events: Iterable[EventPayload],
                  at: datetime) -> None:
    """Record each event: its outbox row and its tenant's notification (an event whose key
    is in the outbox already is not recorded twice)."""
    for payload in events:
        record_event(uow, build_event(payload, occurred_at=at, ids=ids))


def save_change(uow: UnitOfWork, ids: IdFactory, change: Change) -> Subscription:
    """Store the changed subscription and record its events."""
    saved = uow.subscriptions.update(change.record)
    record_events(uow, ids, change.events, change.at)
    return saved


def save_pack_change(uow: UnitOfWork, ids: IdFactory,
                     change: PackChange) -> tuple[PackSubscription, tuple[Subscription, ...]]:
    """Store the changed pack subscription and its children, and record its events."""
    saved = uow.pack_subscriptions.update(change.pack)
    children = tuple(uow.subscriptions.update(child) for child in change.children)
    record_events(uow, ids, change.events, change.at)
    return saved, children


def find_plan(uow: UnitOfWork, reference: str) -> Plan:
    """A plan by id or by ``plan_key`` (``scaikey.starter``)."""
    if "." in reference:
        found = uow.plans.find({"plan_key": reference}, limit=1)
        if found:
            return found[0]
        raise NotFound("Plan", reference)
    return uow.plans.require(reference)


def find_pack(uow: UnitOfWork, reference: str) -> ServicePack:
    """A service pack by id or by slug."""
    pack = uow.service_packs.get(reference)
    if pack is None:
        found = uow.service_packs.find({"slug": reference}, limit=1)
        if not found:
            raise NotFound("Service pack", reference)
        pack = found[0]
    return pack


def plans_of_pack(uow: UnitOfWork, pack: ServicePack) -> dict[str, Plan]:
    """The plans a pack's items name, by id (missing plans are left out)."""
    ids = [item.plan_id for item in pack.items]
    return {plan.id: plan for plan in uow.plans.find({"id": ids})} if ids else {}


def require_subscription(uow: UnitOfWork, reach: Reach, subscription_id: str) -> Subscription:
    """The subscription, or ``NotFound`` if it does not exist or is outside the reach."""
    subscription = uow.subscriptions.require(subscription_id)
    reach.check(subscription, "Subscription")
    return subscription


def require_pack_subscription(uow: UnitOfWork, reach: Reach,
                              pack_subscription_id: str) -> PackSubscription:
    pack = uow.pack_subscriptions.require(pack_subscription_id)
    reach.check(pack, "Pack subscription")
    return pack


def children_of(uow: UnitOfWork, pack: PackSubscription) -> list[Subscription]:
    """The child subscriptions of a pack subscription, in id order."""
    return uow.subscriptions.find({"pack_subscription_id": pack.id})


def billing_profile_exists(uow: UnitOfWork, tenant_id: str) -> bool:
    """Whether the tenant has a billing profile: the contract lets a tenant buy only once
    it has one (``tenant.billing_linked`` was recorded)."""
    return uow.tenant_billing_profiles.count({"tenant_id": tenant_id}) > 0


def lock_tenant(uow: UnitOfWork, tenant: Tenant) -> Tenant:
    """Bump the tenant's version so that two concurrent purchases for one tenant cannot
    both commit (the second gets ``ConcurrencyConflict``)."""
    return uow.tenants.update(tenant)


def ensure_can_buy(uow: UnitOfWork, reach: Reach, tenant_id: str,
                   service_ids: Sequence[str]) -> Tenant:
    """The checks before a purchase: the tenant exists within reach and is active, it has a
    billing profile, and it has no live subscription to any of ``service_ids`` (one
    subscription per service, whether standalone or inside a pack). Locks the tenant."""
    tenant = uow.tenants.get(tenant_id)
    if tenant is None or (reach.tenant_id is not None and tenant.id != reach.tenant_id) or (
        reach.partner_id is not None and tenant.partner_id != reach.partner_id
    ):
        raise NotFound("Tenant", tenant_id)
    if tenant.status is not OrgStatus.ACTIVE:
        raise ValidationError(f"tenant '{tenant_id}' is {tenant.status.value}", field="tenant_id")
    if not billing_profile_exists(uow, tenant_id):
        raise ValidationError(
            f"tenant '{tenant_id}' has no billing profile; create it before subscribing",
            field="tenant_id",
        )
    live = uow.subscriptions.find(
        {"tenant_id": tenant_id, "service_id": list(service_ids), "status": list(LIVE_STATES)},
        limit=1,
    )
    if live:
        raise Conflict(
            f"tenant '{tenant_id}' already has subscription '{live[0].id}' to this service"
        )
    return lock_tenant(uow, tenant)
