"""The lifecycle jobs: each one a function of ``now`` that handles what has fallen due.

=========================  ===============================================================
job                        acts on (at the deadline, not at the moment the job runs)
=========================  ===============================================================
``subscription-reaper``    ``cancelling`` whose ``pending_cancellation_at`` passed: cancelled
``subscription-expiry``    ``active`` whose fixed term (``ends_at``) ended: expired
``dunning``                ``past_due`` for longer than the dunning delay: suspended
``trial-conversion``       ``trialing`` whose trial ended: active, first paid period
``subscription-renewal``   ``active`` whose period ended: the next period starts
``trial-notices``          ``trialing`` with 7, 3 or 1 days left: ``trial_ending`` once each
=========================  ===============================================================

Pack subscriptions go through the reaper, dunning, conversion and renewal too (their
children follow). Each record is handled in its own unit of work, so one failure or a
concurrent worker (``ConcurrencyConflict``) never loses or doubles another record's change;
the record is re-read and re-checked inside that unit of work before it changes.
:attr:`LifecycleJob.next_due` tells when a job next has work, which is how time travel
(:mod:`scaicontrol_core.timetravel`) jumps straight from one deadline to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs

from ..errors import ConcurrencyConflict
from ..events import SuspensionReason
from ..ids import IdFactory
from ..machines.subscription import SubscriptionStatus, SubscriptionTrigger
from ..ports import Storage, UnitOfWork
from .adjustments import TRIAL_NOTICE_DAYS, trial_notice, trial_notice_due
from .lifecycle import PLAIN, TransitionContext, fire, renew, renewal_due
from .operations import children_of, save_change, save_pack_change
from .packs import fire_pack, renew_pack

__all__ = ["JOB_ORDER", "LifecycleJob", "LifecyclePolicy", "lifecycle_jobs"]

S, T = SubscriptionStatus, SubscriptionTrigger
_FAR_FUTURE: Final = datetime(9999, 1, 1, tzinfo=UTC)
_PAGE: Final = 200


@attrs.frozen(kw_only=True)
class LifecyclePolicy:
    """Tunables of the jobs: how long ``past_due`` lasts before suspension, which trial
    notices go out, and how many records one run handles at most."""

    dunning_delay: timedelta = timedelta(days=14)
    trial_notice_days: tuple[int, ...] = TRIAL_NOTICE_DAYS
    batch_size: int = 100


@attrs.frozen(kw_only=True)
class LifecycleJob:
    """``run(now)`` handles up to a batch of due records and returns how many;
    ``next_due()`` is the earliest deadline any record of the job waits for (or None)."""

    name: str
    run: Callable[[datetime], int]
    next_due: Callable[[], datetime | None]


@attrs.frozen(kw_only=True)
class _Sweep:
    """One kind of record one job looks at: which rows, when each is due, what to do."""

    kind: str
    status: SubscriptionStatus
    field: str
    due: Callable[[Any], datetime | None]
    act: Callable[[UnitOfWork, Any, datetime], None]
    lookahead: timedelta = timedelta(0)
    all_actionable: bool = True

    @property
    def where(self) -> Mapping[str, object]:
        if self.kind == "subscriptions":
            return {"status": self.status, "pack_subscription_id": None}
        return {"status": self.status}


#: The order jobs run in when several fall due at the same instant.
JOB_ORDER: Final = ("subscription-reaper", "subscription-expiry", "dunning",
                    "trial-conversion", "subscription-renewal", "trial-notices")


def lifecycle_jobs(storage: Storage, ids: IdFactory,
                   policy: LifecyclePolicy | None = None) -> tuple[LifecycleJob, ...]:
    """The six jobs, in :data:`JOB_ORDER` (``policy`` defaults to :class:`LifecyclePolicy`)."""
    policy = policy or LifecyclePolicy()

    def sub_fire(trigger: SubscriptionTrigger, due: Callable[[Any], datetime | None],
                 context: TransitionContext = PLAIN) -> Callable[..., None]:
        def act(uow: UnitOfWork, sub: Any, now: datetime) -> None:
            plan = uow.plans.require(sub.plan_id)
            at = due(sub)
            save_change(uow, ids, fire(sub, trigger, plan=plan, now=at or now, context=context))
        return act

    def pack_fire(trigger: SubscriptionTrigger, due: Callable[[Any], datetime | None],
) -> Callable[..., None]:
        def act(uow: UnitOfWork, pack: Any, now: datetime) -> None:
            change = fire_pack(pack, children_of(uow, pack), trigger, now=due(pack) or now)
            save_pack_change(uow, ids, change)
        return act

    def sub_renew(uow: UnitOfWork, sub: Any, now: datetime) -> None:
        save_change(uow, ids, renew(sub, plan=uow.plans.require(sub.plan_id)))

    def pack_renew(uow: UnitOfWork, pack: Any, now: datetime) -> None:
        save_pack_change(uow, ids, renew_pack(pack, children_of(uow, pack)))

    def notify(uow: UnitOfWork, sub: Any, now: datetime) -> None:
        change = trial_notice(sub, now=now, days=policy.trial_notice_days)
        if change is not None:
            save_change(uow, ids, change)

    def reap_due(record: Any) -> datetime | None:
        return record.pending_cancellation_at  # type: ignore[no-any-return]

    def expiry_due(record: Any) -> datetime | None:
        return record.ends_at  # type: ignore[no-any-return]

    def dunning_due(record: Any) -> datetime | None:
        since = record.past_due_since
        return None if since is None else since + policy.dunning_delay

    def trial_due(record: Any) -> datetime | None:
        return record.trial_ends_at  # type: ignore[no-any-return]

    def notice_due(record: Any) -> datetime | None:
        return trial_notice_due(record, policy.trial_notice_days)

    dunning = TransitionContext(suspension_reason=SuspensionReason.DUNNING)
    longest_notice = timedelta(days=max(policy.trial_notice_days, default=0))
    sweeps: dict[str, tuple[_Sweep, ...]] = {
        "subscription-reaper": (
            _Sweep(kind="subscriptions", status=S.CANCELLING, field="pending_cancellation_at",
                   due=reap_due, act=sub_fire(T.REAP, reap_due)),
            _Sweep(kind="pack_subscriptions", status=S.CANCELLING,
                   field="pending_cancellation_at", due=reap_due,
                   act=pack_fire(T.REAP, reap_due)),
        ),
        "subscription-expiry": (
            _Sweep(kind="subscriptions", status=S.ACTIVE, field="ends_at", due=expiry_due,
                   act=sub_fire(T.EXPIRE, expiry_due)),
        ),
        "dunning": (
            _Sweep(kind="subscriptions", status=S.PAST_DUE, field="past_due_since",
                   due=dunning_due, act=sub_fire(T.SUSPEND, dunning_due, dunning),
                   lookahead=-policy.dunning_delay),
            _Sweep(kind="pack_subscriptions", status=S.PAST_DUE, field="past_due_since",
                   due=dunning_due, act=pack_fire(T.SUSPEND, dunning_due),
                   lookahead=-policy.dunning_delay),
        ),
        "trial-conversion": (
            _Sweep(kind="subscriptions", status=S.TRIALING, field="trial_ends_at",
                   due=trial_due, act=sub_fire(T.CONVERT, trial_due)),
            _Sweep(kind="pack_subscriptions", status=S.TRIALING, field="trial_ends_at",
                   due=trial_due, act=pack_fire(T.CONVERT, trial_due)),
        ),
        "subscription-renewal": (
            _Sweep(kind="subscriptions", status=S.ACTIVE, field="current_period_end",
                   due=renewal_due, act=sub_renew, all_actionable=False),
            _Sweep(kind="pack_subscriptions", status=S.ACTIVE, field="current_period_end",
                   due=renewal_due, act=pack_renew, all_actionable=False),
        ),
        "trial-notices": (
            _Sweep(kind="subscriptions", status=S.TRIALING, field="trial_ends_at",
                   due=notice_due, act=notify, lookahead=longest_notice,
                   all_actionable=False),
        ),
    }
    return tuple(
        LifecycleJob(
            name=name,
            run=_runner(storage, sweeps[name], policy.batch_size),
            next_due=_next_due(storage, sweeps[name]),
        )
        for name in JOB_ORDER
    )


def _candidates(uow: UnitOfWork, sweep: _Sweep, before: datetime, offset: int,
                limit: int) -> list[Any]:
    repository = getattr(uow, sweep.kind)
    found: list[Any] = repository.find_due(sweep.field, before, sweep.where, offset=offset,
                                           limit=limit)
    return found


def _handle(storage: Storage, sweep: _Sweep, record_id: str, now: datetime) -> bool:
    """Re-read one record in its own unit of work and act if it is still due."""
    try:
        with storage.unit_of_work(cross_tenant=True) as uow:
            record = getattr(uow, sweep.kind).get(record_id)
            if record is None or record.status is not sweep.status:
                return False
            due = sweep.due(record)
            if due is None or due > now:
                return False
            sweep.act(uow, record, now)
            uow.commit()
            return True
    except ConcurrencyConflict:
        return False  # someone else changed it first; the next run looks again


def _runner(storage: Storage, sweeps: tuple[_Sweep, ...],
            batch: int) -> Callable[[datetime], int]:
    def run(now: datetime) -> int:
        handled = 0
        for sweep in sweeps:
            offset = 0
            while handled < batch:
                page = batch if sweep.all_actionable else _PAGE
                with storage.unit_of_work(cross_tenant=True) as uow:
                    rows = _candidates(uow, sweep, now + sweep.lookahead, offset, page)
                due = [row.id for row in rows if (d := sweep.due(row)) is not None and d <= now]
                for record_id in due[: batch - handled]:
                    handled += _handle(storage, sweep, record_id, now)
                if sweep.all_actionable or len(rows) < page:
                    break
                offset += page
        return handled

    return run


def _next_due(storage: Storage, sweeps: tuple[_Sweep, ...]) -> Callable[[], datetime | None]:
    def next_due() -> datetime | None:
        earliest: datetime | None = None
        with storage.unit_of_work(cross_tenant=True) as uow:
            for sweep in sweeps:
                offset = 0
                while True:
                    rows = _candidates(uow, sweep, _FAR_FUTURE, offset, _PAGE)
                    for row in rows:
                        due = sweep.due(row)
                        if due is not None and (earliest is None or due < earliest):
                            earliest = due
                    if len(rows) < _PAGE or (sweep.all_actionable and rows):
                        break
                    offset += _PAGE
        return earliest

    return next_due
