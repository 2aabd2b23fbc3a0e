"""Time travel: move a simulated clock forward and run every job that falls due, in order.

``advance_to(storage, clock, instant, ids=ids)`` jumps the :class:`~.clock.ManualClock`
from one deadline to the next (the end of a trial, of a period, of a scheduled
cancellation, of a dunning delay, ...) up to ``instant``. At each deadline it runs the
lifecycle jobs in :data:`~.commerce.jobs.JOB_ORDER` until none has anything left, exactly
as a worker that never sleeps would. A year of subscription life therefore takes as many
steps as it has deadlines, not as many as it has seconds::

    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    ...  # subscribe, cancel, fail payments at clock.now()
    steps = advance_to(storage, clock, datetime(2027, 1, 1, tzinfo=UTC), ids=ids)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from .clock import ManualClock, ensure_utc
from .commerce.jobs import LifecycleJob, LifecyclePolicy, lifecycle_jobs
from .errors import ValidationError
from .ids import IdFactory
from .ports import Storage

__all__ = ["TravelStep", "advance_to"]

#: Runs of one job at one instant before time travel gives up on a job that never settles.
_MAX_RUNS_PER_INSTANT = 10_000


@attrs.frozen(kw_only=True)
class TravelStep:
    """One job run that did something: when, which job, how many records it handled."""

    at: datetime
    job: str
    handled: int


def _earliest(jobs: Sequence[LifecycleJob]) -> datetime | None:
    dues = [due for job in jobs if (due := job.next_due()) is not None]
    return min(dues, default=None)


def _run_at(jobs: Sequence[LifecycleJob], moment: datetime) -> list[TravelStep]:
    steps = []
    for job in jobs:
        for _ in range(_MAX_RUNS_PER_INSTANT):
            handled = job.run(moment)
            if not handled:
                break
            steps.append(TravelStep(at=moment, job=job.name, handled=handled))
        else:  # pragma: no cover - a job that always reports work is a bug
            raise RuntimeError(f"job {job.name} never settled at {moment.isoformat()}")
    return steps


def advance_to(
    storage: Storage,
    clock: ManualClock,
    instant: datetime,
    *,
    ids: IdFactory,
    policy: LifecyclePolicy | None = None,
    jobs: Sequence[LifecycleJob] | None = None,
) -> list[TravelStep]:
    """Advance ``clock`` to ``instant``, running every job at each deadline on the way.

    Deadlines that already passed run at the clock's current time first. Returns the job
    runs that handled something, in order. ``jobs`` defaults to :func:`lifecycle_jobs`.
    """
    target = ensure_utc(instant)
    if target < clock.now():
        raise ValidationError("time travel only goes forward", field="instant")
    chosen = tuple(jobs) if jobs is not None else lifecycle_jobs(storage, ids, policy)
    steps: list[TravelStep] = []
    while (due := _earliest(chosen)) is not None and due <= target:
        moment = max(due, clock.now())
        clock.set(moment)
        steps.extend(_run_at(chosen, moment))
        after = _earliest(chosen)
        if after is not None and after <= moment:
            raise RuntimeError(
                f"a job reports work due at {after.isoformat()} that no job handled"
            )
    clock.set(target)
    return steps
