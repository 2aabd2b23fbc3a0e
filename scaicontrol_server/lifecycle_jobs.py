"""The subscription lifecycle jobs of :mod:`scaicontrol_core.commerce.jobs`, as worker jobs.

Each is a sync function of ``now`` that handles what fell due; the worker runs it every
``SCAICONTROL_SUBSCRIPTION_JOBS_INTERVAL`` seconds, and straight away again while it finds
work. Events get fresh random ids; their idempotency keys depend only on the deadlines.
"""

from __future__ import annotations

from datetime import timedelta

from scaicontrol_core.commerce import LifecyclePolicy, lifecycle_jobs
from scaicontrol_core.errors import ConfigurationError
from scaicontrol_core.ids import IdFactory, RandomIds
from scaicontrol_core.ports import Storage

from .settings import Settings
from .workers import Job

__all__ = ["lifecycle_policy", "subscription_jobs"]


def lifecycle_policy(settings: Settings) -> LifecyclePolicy:
    """The jobs' policy from the settings (a bad value stops start-up)."""
    if settings.dunning_delay_days < 0:
        raise ConfigurationError("SCAICONTROL_DUNNING_DELAY_DAYS must be 0 or more",
                                 setting="SCAICONTROL_DUNNING_DELAY_DAYS")
    if settings.subscription_jobs_interval <= 0:
        raise ConfigurationError("SCAICONTROL_SUBSCRIPTION_JOBS_INTERVAL must be positive",
                                 setting="SCAICONTROL_SUBSCRIPTION_JOBS_INTERVAL")
    return LifecyclePolicy(dunning_delay=timedelta(days=settings.dunning_delay_days))


def subscription_jobs(storage: Storage, settings: Settings,
                      ids: IdFactory | None = None) -> list[Job]:
    """One worker job per lifecycle job, in the order they run at the same instant."""
    policy = lifecycle_policy(settings)
    return [
        Job(name=job.name, interval=settings.subscription_jobs_interval, run=job.run)
        for job in lifecycle_jobs(storage, ids or RandomIds(), policy)
    ]
