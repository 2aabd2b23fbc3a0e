"""The lifecycle jobs and time travel: deadlines, late runs, races and trial notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.commerce import (
    EVERYTHING,
    JOB_ORDER,
    LifecycleJob,
    PaymentFailure,
    lifecycle_jobs,
)
from scaicontrol_core.errors import ValidationError
from scaicontrol_core.machines.subscription import SubscriptionStatus as S
from scaicontrol_core.testing.commerce_world import CommerceWorld
from scaicontrol_core.timetravel import advance_to


@pytest.fixture
def world() -> CommerceWorld:
    """A commerce world on memory storage."""
    return CommerceWorld.build(MemoryStorage())


def jobs(world: CommerceWorld, storage: Any = None) -> dict[str, LifecycleJob]:
    found = lifecycle_jobs(storage or world.storage, world.ids, world.policy)
    assert tuple(job.name for job in found) == JOB_ORDER
    return {job.name: job for job in found}


def topics(world: CommerceWorld, resource: str) -> list[str]:
    return [e.event_type.value for e in world.events(resource)]


def test_a_late_reaper_cancels_at_the_scheduled_instant(world: CommerceWorld) -> None:
    """Run five days late, the reaper still stamps the cancellation with its deadline; a
    second run finds nothing."""
    sub = world.subscribe("scaidrive.basic")
    scheduled = world.subscriptions.cancel(EVERYTHING, sub.id, now=world.now)
    deadline = scheduled.pending_cancellation_at
    reaper = jobs(world)["subscription-reaper"]
    assert reaper.next_due() == deadline
    assert reaper.run(deadline - timedelta(seconds=1)) == 0
    assert reaper.run(deadline + timedelta(days=5)) == 1
    assert reaper.run(deadline + timedelta(days=5)) == 0 and reaper.next_due() is None
    done = world.subscriptions.get(EVERYTHING, sub.id)
    assert (done.status, done.cancelled_at) == (S.CANCELLED, deadline)
    assert world.events(sub.id)[-1].occurred_at == deadline


class RacingStorage:
    """A storage whose first commit lets a rival worker commit the same work first."""

    def __init__(self, inner: MemoryStorage, rival: LifecycleJob, now: datetime) -> None:
        self.inner = inner
        self.rival: LifecycleJob | None = rival
        self.now = now
        self.name = inner.name

    def unit_of_work(self, **kwargs: Any) -> Any:
        uow = self.inner.unit_of_work(**kwargs)
        commit = uow.commit

        def racing_commit() -> None:
            rival, self.rival = self.rival, None
            if rival is not None:
                assert rival.run(self.now) == 1
            commit()

        uow.commit = racing_commit  # type: ignore[method-assign]
        return uow


def test_two_workers_racing_record_the_change_once(world: CommerceWorld) -> None:
    """The slower worker's save conflicts and is skipped: one cancellation, one event."""
    sub = world.subscribe("scaidrive.basic")
    deadline = world.subscriptions.cancel(EVERYTHING, sub.id,
                                          now=world.now).pending_cancellation_at
    assert deadline is not None
    storage = world.storage
    assert isinstance(storage, MemoryStorage)
    rival = jobs(world)["subscription-reaper"]
    racing = RacingStorage(storage, rival, deadline)
    slow = jobs(world, racing)["subscription-reaper"]
    assert slow.run(deadline) == 0
    assert topics(world, sub.id).count("subscription.cancelled") == 1
    assert world.subscriptions.get(EVERYTHING, sub.id).status is S.CANCELLED


def test_short_trials_get_only_the_notices_they_can_reach(world: CommerceWorld) -> None:
    """A 14-day trial hears 7, 3 and 1 days before its end, each notice once."""
    sub = world.subscribe("scaikey.trial")
    world.travel(world.now + timedelta(days=13, hours=12))
    days = [e.data.days_remaining for e in world.events(sub.id)[1:]]
    assert days == [7, 3, 1]
    world.travel(world.now + timedelta(hours=1))
    assert len(world.events(sub.id)) == 4


def test_missed_notices_are_skipped_not_sent_late(world: CommerceWorld) -> None:
    """With the worker down until one day before the end, only the 1-day notice is sent."""
    sub = world.subscribe("scaidrive.team")  # 30-day trial
    notices = jobs(world)["trial-notices"]
    assert notices.next_due() == sub.trial_ends_at - timedelta(days=7)
    assert notices.run(sub.trial_ends_at - timedelta(hours=12)) == 1
    assert notices.run(sub.trial_ends_at - timedelta(hours=1)) == 0
    [notice] = world.events(sub.id)[1:]
    assert notice.data.days_remaining == 1
    assert notice.occurred_at == sub.trial_ends_at - timedelta(days=1)
    assert notices.next_due() is None


def test_monthly_renewals_follow_the_anchor_day(world: CommerceWorld) -> None:
    """Started on 31 January, periods end on 28 February, 31 March and 30 April."""
    world.clock.set(datetime(2026, 1, 31, 10, tzinfo=UTC))
    sub = world.subscribe("scaidrive.basic")
    world.travel(datetime(2026, 5, 1, tzinfo=UTC))
    renewals = [e for e in world.events(sub.id) if e.event_type.value == "subscription.changed"]
    assert [e.occurred_at.date().isoformat() for e in renewals] == [
        "2026-02-28", "2026-03-31", "2026-04-30"]
    assert renewals[-1].data.current_period_end == datetime(2026, 5, 31, 10, tzinfo=UTC)


def test_a_fixed_term_plan_expires_instead_of_renewing(world: CommerceWorld) -> None:
    """Three monthly periods, two renewals, then expired at the end of the term."""
    sub = world.subscribe("scaikey.commit")
    end = datetime(2026, 4, 1, tzinfo=UTC)
    assert sub.ends_at == end
    world.travel(datetime(2026, 8, 1, tzinfo=UTC))
    events = world.events(sub.id)
    assert [e.event_type.value for e in events] == [
        "subscription.activated", "subscription.changed", "subscription.changed",
        "subscription.cancelled"]
    last = events[-1]
    assert (last.data.terminal_state.value, last.data.effective_immediately) == ("expired", False)
    assert last.occurred_at == end
    assert world.subscriptions.get(EVERYTHING, sub.id).status is S.EXPIRED


def test_recovery_before_the_dunning_delay_stops_the_timer(world: CommerceWorld) -> None:
    """Paid again after ten days, the subscription is never suspended."""
    sub = world.subscribe("scaikey.pro")
    failure = PaymentFailure(amount_cents=9900, currency="EUR")
    world.subscriptions.record_payment_failure(EVERYTHING, sub.id, failure, now=world.now)
    world.travel(world.now + timedelta(days=10))
    world.subscriptions.record_payment_success(EVERYTHING, sub.id, now=world.now)
    world.travel(world.now + timedelta(days=10))
    assert world.subscriptions.get(EVERYTHING, sub.id).status is S.ACTIVE
    assert "subscription.suspended" not in topics(world, sub.id)


def test_time_travel_reports_steps_and_ends_at_the_instant(world: CommerceWorld) -> None:
    """Each job run that did something is a step; the clock ends where it was sent."""
    world.subscribe("scaikey.trial")
    target = world.now + timedelta(days=20)
    steps = world.travel(target)
    assert [(s.job, s.at.day) for s in steps] == [
        ("trial-notices", 8), ("trial-notices", 12), ("trial-notices", 14),
        ("trial-conversion", 15)]
    assert world.now == target
    with pytest.raises(ValidationError):
        world.travel(target - timedelta(seconds=1))


def test_time_travel_stops_a_job_that_never_settles(world: CommerceWorld) -> None:
    """A job that keeps reporting a past deadline it does not handle is an error."""
    stuck = LifecycleJob(name="stuck", run=lambda now: 0,
                         next_due=lambda: datetime(2026, 1, 2, tzinfo=UTC))
    with pytest.raises(RuntimeError, match="no job handled"):
        advance_to(world.storage, world.clock, datetime(2026, 2, 1, tzinfo=UTC),
                   ids=world.ids, jobs=[stuck])
