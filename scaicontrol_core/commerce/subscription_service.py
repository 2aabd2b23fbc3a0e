"""The subscription API an integrator or a handler calls (synchronous).

Each method opens one unit of work confined by a :class:`~.reach.Reach`, applies a pure
operation, stores the record, appends its events to the outbox and commits once. Children
of a service pack are read here but changed only through their pack (:mod:`.pack_service`).
"""

from __future__ import annotations

from collections.abc import Callable, Set
from datetime import datetime

from ..catalog_records import Plan, Subscription
from ..errors import InvalidTransition, ValidationError
from ..ids import IdFactory
from ..machines.subscription import (
    LIVE_STATES,
    SUBSCRIPTION,
    SubscriptionStatus,
    SubscriptionTrigger,
    trigger_between,
)
from ..ports import Storage, UnitOfWork
from .adjustments import ADJUSTABLE_STATES, change_plan_of, change_quantity_of
from .lifecycle import (
    PLAIN,
    Change,
    PaymentFailure,
    TransitionContext,
    fire,
    new_subscription,
    record_repeat_failure,
)
from .operations import (
    check_reason,
    ensure_can_buy,
    find_plan,
    require_subscription,
    save_change,
)
from .reach import Reach

__all__ = ["SubscriptionService", "subscribe_in"]

S, T = SubscriptionStatus, SubscriptionTrigger

#: A trigger, a function choosing one from the subscription, or None for "activate".
_Pick = SubscriptionTrigger | Callable[[Subscription], SubscriptionTrigger] | None


def _standalone(sub: Subscription) -> None:
    if sub.pack_subscription_id is not None:
        raise ValidationError(
            f"subscription '{sub.id}' belongs to pack subscription "
            f"'{sub.pack_subscription_id}'; change the pack subscription instead"
        )


class SubscriptionService:
    """Buy, read and change single-service subscriptions."""

    def __init__(self, storage: Storage, ids: IdFactory) -> None:
        self.storage = storage
        self.ids = ids

    # -- reads ------------------------------------------------------------------------------

    def get(self, reach: Reach, subscription_id: str) -> Subscription:
        with reach.open(self.storage) as uow:
            return require_subscription(uow, reach, subscription_id)

    def list(
        self,
        reach: Reach,
        *,
        status: SubscriptionStatus | None = None,
        tenant_id: str | None = None,
        service_id: str | None = None,
        plan_key: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[Subscription], int]:
        """A page of subscriptions within reach, newest first, and the total count."""
        where: dict[str, object] = reach.where()
        for name, value in (("status", status), ("tenant_id", tenant_id),
                            ("service_id", service_id), ("plan_key", plan_key)):
            if value is not None:
                where[name] = value
        if reach.tenant_id is not None and tenant_id not in (None, reach.tenant_id):
            return [], 0
        with reach.open(self.storage) as uow:
            items = uow.subscriptions.find(where, order_by=("-created_at", "id"),
                                           offset=offset, limit=limit)
            return items, uow.subscriptions.count(where)

    # -- buying -----------------------------------------------------------------------------

    def subscribe(self, reach: Reach, *, tenant_id: str, plan: str, now: datetime,
                  quantity: int = 1, activate: bool = True) -> Subscription:
        """Subscribe ``tenant_id`` to ``plan`` (an id or a plan key).

        The subscription starts ``pending``; unless ``activate`` is False (provisioning
        will report later) it is activated at once: ``trialing`` when the plan has trial
        days, else ``active``, recording ``subscription.activated``.
        """
        with reach.open(self.storage) as uow:
            saved = subscribe_in(uow, self.ids, reach, tenant_id=tenant_id, plan=plan, now=now,
                                 quantity=quantity, activate=activate)
            uow.commit()
            return saved

    def activate(self, reach: Reach, subscription_id: str, *, now: datetime) -> Subscription:
        """Provisioning succeeded: ``pending`` becomes ``trialing`` or ``active``."""
        return self._fire(reach, subscription_id, None, PLAIN, now)

    def fail_provisioning(self, reach: Reach, subscription_id: str, *, now: datetime,
                          reason: str | None = None) -> Subscription:
        """Provisioning failed: ``pending`` becomes ``cancelled``."""
        return self._fire(reach, subscription_id, T.PROVISIONING_FAILED,
                          TransitionContext(reason=check_reason(reason)), now)

    # -- lifecycle --------------------------------------------------------------------------

    def fire(self, reach: Reach, subscription_id: str, trigger: SubscriptionTrigger, *,
             now: datetime, context: TransitionContext = PLAIN) -> Subscription:
        """Apply one machine trigger; anything the table does not list is refused."""
        return self._fire(reach, subscription_id, trigger, context, now)

    def cancel(self, reach: Reach, subscription_id: str, *, now: datetime,
               immediate: bool = False, reason: str | None = None) -> Subscription:
        """End it at once (``immediate``, or always during a trial), or at the end of the
        current period (``cancelling`` until the reaper runs)."""
        context = TransitionContext(reason=check_reason(reason))

        def pick(sub: Subscription) -> SubscriptionTrigger:
            return T.CANCEL if immediate or sub.status is S.TRIALING else T.SCHEDULE_CANCELLATION

        return self._fire(reach, subscription_id, pick, context, now)

    def undo_cancellation(self, reach: Reach, subscription_id: str, *,
                          now: datetime) -> Subscription:
        """Withdraw a scheduled cancellation (``cancelling`` back to ``active``)."""
        return self._fire(reach, subscription_id, T.UNDO_CANCELLATION, PLAIN, now)

    def resume(self, reach: Reach, subscription_id: str, *, now: datetime) -> Subscription:
        """An operator's resume: undoes a scheduled cancellation, or lifts a suspension."""

        def pick(sub: Subscription) -> SubscriptionTrigger:
            return T.UNDO_CANCELLATION if sub.status is S.CANCELLING else T.RESUME

        return self._fire(reach, subscription_id, pick, PLAIN, now)

    def suspend(self, reach: Reach, subscription_id: str, *, now: datetime) -> Subscription:
        """An operator's suspension (only a ``past_due`` subscription can be suspended)."""
        return self._fire(reach, subscription_id, T.SUSPEND, PLAIN, now)

    def convert(self, reach: Reach, subscription_id: str, *, now: datetime) -> Subscription:
        """End the trial early: ``trialing`` becomes ``active`` with a first paid period."""
        return self._fire(reach, subscription_id, T.CONVERT, PLAIN, now)

    def record_payment_failure(self, reach: Reach, subscription_id: str,
                               payment: PaymentFailure, *, now: datetime) -> Subscription:
        """A scheduled payment failed: ``active`` becomes ``past_due``; a further failure
        while past due counts another attempt. Both record ``subscription.payment_failed``."""
        with reach.open(self.storage) as uow:
            sub = require_subscription(uow, reach, subscription_id)
            _standalone(sub)
            plan = uow.plans.require(sub.plan_id)
            if sub.status is S.PAST_DUE:
                change = record_repeat_failure(sub, plan=plan, payment=payment, now=now)
            else:
                change = fire(sub, T.PAYMENT_FAILED, plan=plan, now=now,
                              context=TransitionContext(payment=payment))
            saved = save_change(uow, self.ids, change)
            uow.commit()
            return saved

    def record_payment_success(self, reach: Reach, subscription_id: str, *,
                               now: datetime) -> Subscription:
        """A payment succeeded: ``past_due`` is ``active`` again (the dunning timer is off);
        a ``trialing`` subscription converts. On an ``active`` or ``cancelling`` one it
        changes nothing (a routine payment); anywhere else it is an invalid transition (a
        suspended subscription needs an operator's resume)."""
        with reach.open(self.storage) as uow:
            current = require_subscription(uow, reach, subscription_id)
        if current.status in (S.ACTIVE, S.CANCELLING) and current.pack_subscription_id is None:
            return current

        def pick(sub: Subscription) -> SubscriptionTrigger:
            return T.CONVERT if sub.status is S.TRIALING else T.PAYMENT_RECOVERED

        return self._fire(reach, subscription_id, pick, PLAIN, now)

    # -- plan and quantity --------------------------------------------------------------------

    def change(self, reach: Reach, subscription_id: str, *, now: datetime,
               plan: str | None = None, quantity: int | None = None) -> Subscription:
        """A tenant's change of plan (same service) and/or quantity, while trialing or
        active; each change records its own ``subscription.changed``."""
        return self._adjust(reach, subscription_id, plan, quantity, now,
                            allowed=ADJUSTABLE_STATES, require_active=True)

    def override(self, reach: Reach, subscription_id: str, *, now: datetime,
                 plan: str | None = None, status: SubscriptionStatus | None = None,
                 quantity: int | None = None, reason: str | None = None) -> Subscription:
        """An operator sets the plan, quantity and/or status.

        Plan and quantity may change in any live state; a status is reached only along
        the documented transition from the current state. Each change records its event.
        """
        if plan is None and status is None and quantity is None:
            raise ValidationError("give a plan, a quantity or a status to override")
        context = TransitionContext(reason=check_reason(reason), override=True)
        with reach.open(self.storage) as uow:
            sub = self._adjust_in(uow, reach, subscription_id, plan, quantity, now,
                                  allowed=LIVE_STATES - {S.PENDING}, require_active=False)
            if status is not None:
                if status is sub.status:
                    raise ValidationError(f"the subscription is already {status.value}",
                                          field="status")
                trigger = trigger_between(SUBSCRIPTION, sub.status, status)
                if trigger is None:
                    raise InvalidTransition(SUBSCRIPTION.name, sub.status.value,
                                            f"override to {status.value}")
                plan_record = uow.plans.require(sub.plan_id)
                sub = save_change(uow, self.ids, fire(sub, trigger, plan=plan_record,
                                                      now=now, context=context))
            uow.commit()
            return sub

    # -- internals ----------------------------------------------------------------------------

    def _adjust(self, reach: Reach, subscription_id: str, plan: str | None,
                quantity: int | None, now: datetime, *, allowed: Set[SubscriptionStatus],
                require_active: bool) -> Subscription:
        if plan is None and quantity is None:
            raise ValidationError("give a plan or a quantity to change")
        with reach.open(self.storage) as uow:
            sub = self._adjust_in(uow, reach, subscription_id, plan, quantity, now,
                                  allowed=allowed, require_active=require_active)
            uow.commit()
            return sub

    def _adjust_in(self, uow: UnitOfWork, reach: Reach, subscription_id: str,
                   plan: str | None, quantity: int | None, now: datetime, *,
                   allowed: Set[SubscriptionStatus], require_active: bool) -> Subscription:
        sub = require_subscription(uow, reach, subscription_id)
        _standalone(sub)
        current = uow.plans.require(sub.plan_id)
        if plan is not None:
            target = find_plan(uow, plan)
            if target.id != sub.plan_id or quantity is None:
                sub = save_change(uow, self.ids, change_plan_of(
                    sub, current=current, target=target, now=now, allowed=allowed,
                    require_active=require_active))
                current = target
        if quantity is not None:
            sub = save_change(uow, self.ids, change_quantity_of(
                sub, plan=current, quantity=quantity, now=now, allowed=allowed))
        return sub

    def _fire(self, reach: Reach, subscription_id: str, trigger: _Pick,
              context: TransitionContext, now: datetime) -> Subscription:
        with reach.open(self.storage) as uow:
            sub = require_subscription(uow, reach, subscription_id)
            _standalone(sub)
            plan = uow.plans.require(sub.plan_id)
            if trigger is None:
                chosen = _activation(plan)
            elif isinstance(trigger, SubscriptionTrigger):
                chosen = trigger
            else:
                chosen = trigger(sub)
            change: Change = fire(sub, chosen, plan=plan, now=now, context=context)
            saved = save_change(uow, self.ids, change)
            uow.commit()
            return saved


def _activation(plan: Plan) -> SubscriptionTrigger:
    return T.ACTIVATE_TRIAL if plan.trial_days > 0 else T.ACTIVATE


def subscribe_in(uow: UnitOfWork, ids: IdFactory, reach: Reach, *, tenant_id: str, plan: str,
                 now: datetime, quantity: int = 1, activate: bool = True,
                 subscription_id: str | None = None) -> Subscription:
    """:meth:`SubscriptionService.subscribe` inside an open unit of work (the caller
    commits); ``subscription_id`` fixes the id (the demo data set uses it)."""
    chosen = find_plan(uow, plan)
    service = uow.services.require(chosen.service_id)
    if not chosen.is_active or not service.is_active:
        raise ValidationError(f"plan '{chosen.plan_key}' is not for sale", field="plan")
    tenant = ensure_can_buy(uow, reach, tenant_id, [chosen.service_id])
    pending = new_subscription(
        subscription_id=subscription_id or ids.uuid(), tenant_id=tenant.id,
        partner_id=tenant.partner_id, plan=chosen, quantity=quantity, now=now,
    )
    saved = uow.subscriptions.add(pending)
    if activate:
        saved = save_change(uow, ids, fire(saved, _activation(chosen), plan=chosen, now=now))
    return saved

