"""The service pack API: the pack catalog and pack subscriptions (synchronous).

A pack subscription and its children change together in one unit of work, and only the
pack records events. Packs are deleted only while nobody ever subscribed to them;
otherwise they leave the shop with ``is_active`` false.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import attrs

from ..catalog_records import (
    PackSubscription,
    Plan,
    ServicePack,
    ServicePackItem,
    Subscription,
)
from ..errors import Conflict, DuplicateRecord, InvalidTransition, NotFound, ValidationError
from ..ids import IdFactory
from ..machines.pack_subscription import PACK_SUBSCRIPTION
from ..machines.subscription import SubscriptionStatus, SubscriptionTrigger, trigger_between
from ..ports import Storage, UnitOfWork
from .catalog import Keep
from .lifecycle import stamp_after
from .operations import (
    check_reason,
    children_of,
    ensure_can_buy,
    find_pack,
    plans_of_pack,
    record_events,
    require_pack_subscription,
    save_pack_change,
)
from .packs import (
    NewPack,
    PackChanges,
    buy_pack,
    change_pack,
    fire_pack,
    list_price_cents,
    mirror,
    new_pack,
    pack_price_cents,
)
from .reach import Reach

__all__ = ["PackQuote", "PackService", "PackSubscriptionView", "subscribe_pack_in"]

S, T = SubscriptionStatus, SubscriptionTrigger


@attrs.frozen(kw_only=True)
class PackQuote:
    """A pack with its plans and prices: ``price_cents`` is billed per period,
    ``list_price_cents`` is what the items cost on their own."""

    pack: ServicePack
    plans: Mapping[str, Plan]
    price_cents: int
    list_price_cents: int


@attrs.frozen(kw_only=True)
class PackSubscriptionView:
    """A pack subscription with its child subscriptions."""

    pack_subscription: PackSubscription
    children: tuple[Subscription, ...]


def _quote(uow: UnitOfWork, pack: ServicePack) -> PackQuote:
    plans = plans_of_pack(uow, pack)
    return PackQuote(pack=pack, plans=plans, price_cents=pack_price_cents(pack, plans),
                     list_price_cents=list_price_cents(pack, plans))


def _item_plans(uow: UnitOfWork, items: Sequence[ServicePackItem]) -> dict[str, Plan]:
    ids = [item.plan_id for item in items]
    return {plan.id: plan for plan in uow.plans.find({"id": ids})} if ids else {}


class PackService:
    """Service packs and pack subscriptions."""

    def __init__(self, storage: Storage, ids: IdFactory) -> None:
        self.storage = storage
        self.ids = ids

    # -- the pack catalog ---------------------------------------------------------------------

    def create_pack(self, command: NewPack, *, now: datetime) -> PackQuote:
        with self.storage.unit_of_work() as uow:
            pack = new_pack(command, _item_plans(uow, command.items), pack_id=self.ids.uuid(),
                            now=now)
            if uow.service_packs.count({"slug": pack.slug}):
                raise DuplicateRecord("Service pack", pack.slug)
            quote = _quote(uow, uow.service_packs.add(pack))
            uow.commit()
            return quote

    def update_pack(self, reference: str, changes: PackChanges, *, now: datetime) -> PackQuote:
        """Change a pack; existing pack subscriptions keep the price and children they have."""
        with self.storage.unit_of_work() as uow:
            pack = find_pack(uow, reference)
            items = pack.items if isinstance(changes.items, Keep) else changes.items
            plans = _item_plans(uow, items)
            quote = _quote(uow, uow.service_packs.update(change_pack(pack, changes, plans,
                                                                     now=now)))
            uow.commit()
            return quote

    def delete_pack(self, reference: str) -> None:
        with self.storage.unit_of_work(cross_tenant=True) as uow:
            pack = find_pack(uow, reference)
            if uow.pack_subscriptions.count({"pack_id": pack.id}):
                raise Conflict(f"service pack '{pack.slug}' has subscriptions; set is_active "
                               "to false to stop selling it")
            uow.service_packs.delete(pack)
            uow.commit()

    def get_pack(self, reference: str, *, public_only: bool = False) -> PackQuote:
        with self.storage.unit_of_work() as uow:
            pack = find_pack(uow, reference)
            if public_only and not (pack.is_active and pack.is_public):
                raise NotFound("Service pack", reference)
            return _quote(uow, pack)

    def list_packs(self, *, public_only: bool = False, offset: int = 0,
                   limit: int | None = None) -> tuple[list[PackQuote], int]:
        where: dict[str, object] = {"is_active": True, "is_public": True} if public_only else {}
        with self.storage.unit_of_work() as uow:
            packs = uow.service_packs.find(where, order_by=("sort_order", "slug"),
                                           offset=offset, limit=limit)
            return [_quote(uow, pack) for pack in packs], uow.service_packs.count(where)

    # -- pack subscriptions -------------------------------------------------------------------

    def subscribe(self, reach: Reach, *, tenant_id: str, pack: str,
                  now: datetime) -> PackSubscriptionView:
        """Buy ``pack`` (id or slug) for ``tenant_id``: one pack subscription, one child
        subscription per item, ``pack_subscription.activated`` recorded."""
        with reach.open(self.storage) as uow:
            view = subscribe_pack_in(uow, self.ids, reach, tenant_id=tenant_id, pack=pack,
                                     now=now)
            uow.commit()
            return view

    def get_subscription(self, reach: Reach, pack_subscription_id: str) -> PackSubscriptionView:
        with reach.open(self.storage) as uow:
            pack = require_pack_subscription(uow, reach, pack_subscription_id)
            return PackSubscriptionView(pack_subscription=pack,
                                        children=tuple(children_of(uow, pack)))

    def list_subscriptions(self, reach: Reach, *, status: SubscriptionStatus | None = None,
                           tenant_id: str | None = None, offset: int = 0,
                           limit: int | None = None) -> tuple[list[PackSubscriptionView], int]:
        where: dict[str, object] = reach.where()
        if status is not None:
            where["status"] = status
        if tenant_id is not None:
            if reach.tenant_id not in (None, tenant_id):
                return [], 0
            where["tenant_id"] = tenant_id
        with reach.open(self.storage) as uow:
            packs = uow.pack_subscriptions.find(where, order_by=("-created_at", "id"),
                                                offset=offset, limit=limit)
            views = [PackSubscriptionView(pack_subscription=p, children=tuple(children_of(uow, p)))
                     for p in packs]
            return views, uow.pack_subscriptions.count(where)

    def fire(self, reach: Reach, pack_subscription_id: str, trigger: SubscriptionTrigger, *,
             now: datetime, reason: str | None = None) -> PackSubscriptionView:
        """Apply one machine trigger to the pack and its children."""
        return self._fire(reach, pack_subscription_id, lambda _: trigger, now, reason)

    def cancel(self, reach: Reach, pack_subscription_id: str, *, now: datetime,
               immediate: bool = False, reason: str | None = None) -> PackSubscriptionView:
        """As for subscriptions: at once (``immediate`` or during a trial), else at the end
        of the period; the children follow."""

        def pick(pack: PackSubscription) -> SubscriptionTrigger:
            return T.CANCEL if immediate or pack.status is S.TRIALING else T.SCHEDULE_CANCELLATION

        return self._fire(reach, pack_subscription_id, pick, now, reason)

    def resume(self, reach: Reach, pack_subscription_id: str, *,
               now: datetime) -> PackSubscriptionView:
        def pick(pack: PackSubscription) -> SubscriptionTrigger:
            return T.UNDO_CANCELLATION if pack.status is S.CANCELLING else T.RESUME

        return self._fire(reach, pack_subscription_id, pick, now, None)

    def override_status(self, reach: Reach, pack_subscription_id: str,
                        status: SubscriptionStatus, *, now: datetime,
                        reason: str | None = None) -> PackSubscriptionView:
        """Move the pack along the documented transition to ``status``."""

        def pick(pack: PackSubscription) -> SubscriptionTrigger:
            if status is pack.status:
                raise ValidationError(f"the pack subscription is already {status.value}",
                                      field="status")
            trigger = trigger_between(PACK_SUBSCRIPTION, pack.status, status)
            if trigger is None:
                raise InvalidTransition(PACK_SUBSCRIPTION.name, pack.status.value,
                                        f"override to {status.value}")
            return trigger

        return self._fire(reach, pack_subscription_id, pick, now, reason)

    def record_payment_failure(self, reach: Reach, pack_subscription_id: str, *,
                               now: datetime) -> PackSubscriptionView:
        """The pack's payment failed: ``active`` becomes ``past_due``; a further failure
        while past due only counts the attempt (packs have no payment_failed topic)."""
        with reach.open(self.storage) as uow:
            pack = require_pack_subscription(uow, reach, pack_subscription_id)
            if pack.status is S.PAST_DUE:
                at = stamp_after(pack.updated_at, now)
                repeated = attrs.evolve(pack, payment_failures=pack.payment_failures + 1,
                                        updated_at=at)
                saved = uow.pack_subscriptions.update(repeated)
                children = tuple(uow.subscriptions.update(mirror(c, saved))
                                 for c in children_of(uow, pack))
                uow.commit()
                return PackSubscriptionView(pack_subscription=saved, children=children)
        return self._fire(reach, pack_subscription_id, lambda _: T.PAYMENT_FAILED, now, None)

    def record_payment_success(self, reach: Reach, pack_subscription_id: str, *,
                               now: datetime) -> PackSubscriptionView:
        """As for subscriptions: recovers ``past_due``, converts a trial, and changes
        nothing on an ``active`` or ``cancelling`` pack."""
        current = self.get_subscription(reach, pack_subscription_id)
        if current.pack_subscription.status in (S.ACTIVE, S.CANCELLING):
            return current

        def pick(pack: PackSubscription) -> SubscriptionTrigger:
            return T.CONVERT if pack.status is S.TRIALING else T.PAYMENT_RECOVERED

        return self._fire(reach, pack_subscription_id, pick, now, None)

    def _fire(self, reach: Reach, pack_subscription_id: str,
              pick: Callable[[PackSubscription], SubscriptionTrigger], now: datetime,
              reason: str | None) -> PackSubscriptionView:
        with reach.open(self.storage) as uow:
            pack = require_pack_subscription(uow, reach, pack_subscription_id)
            children = children_of(uow, pack)
            catalog_pack = uow.service_packs.get(pack.pack_id)
            trial_days = catalog_pack.trial_days if catalog_pack is not None else 0
            change = fire_pack(pack, children, pick(pack), now=now, trial_days=trial_days,
                               reason=check_reason(reason))
            saved, stored_children = save_pack_change(uow, self.ids, change)
            uow.commit()
            return PackSubscriptionView(pack_subscription=saved, children=stored_children)


def subscribe_pack_in(uow: UnitOfWork, ids: IdFactory, reach: Reach, *, tenant_id: str,
                      pack: str, now: datetime,
                      pack_subscription_id: str | None = None) -> PackSubscriptionView:
    """:meth:`PackService.subscribe` inside an open unit of work (the caller commits);
    ``pack_subscription_id`` fixes the id (the demo data set uses it)."""
    chosen = find_pack(uow, pack)
    plans = plans_of_pack(uow, chosen)
    tenant = ensure_can_buy(uow, reach, tenant_id, [item.service_id for item in chosen.items])
    change = buy_pack(chosen, plans, pack_subscription_id=pack_subscription_id or ids.uuid(),
                      child_ids=[ids.uuid() for _ in chosen.items], tenant_id=tenant.id,
                      partner_id=tenant.partner_id, now=now)
    saved = uow.pack_subscriptions.add(change.pack)
    children = tuple(uow.subscriptions.add(child) for child in change.children)
    record_events(uow, ids, change.events, change.at)
    return PackSubscriptionView(pack_subscription=saved, children=children)
