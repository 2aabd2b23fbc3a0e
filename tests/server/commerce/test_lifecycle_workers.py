"""The lifecycle jobs in the worker runner, and their settings."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.commerce import EVERYTHING, JOB_ORDER, PaymentFailure
from scaicontrol_core.errors import ConfigurationError
from scaicontrol_core.testing.commerce_world import CommerceWorld
from scaicontrol_server.lifecycle_jobs import lifecycle_policy, subscription_jobs
from scaicontrol_server.settings import Settings, load_settings
from scaicontrol_server.workers import build_jobs

SETTINGS = Settings(database_url="memory://", workers_enabled=False)


def test_every_deployment_runs_the_lifecycle_jobs() -> None:
    """build_jobs includes the six jobs with the configured interval."""
    settings = attrs.evolve(SETTINGS, subscription_jobs_interval=60.0)
    jobs = {job.name: job for job in build_jobs(MemoryStorage(), settings)}
    assert set(JOB_ORDER) <= set(jobs)
    assert {jobs[name].interval for name in JOB_ORDER} == {60.0}


def test_settings_come_from_the_environment_and_are_checked() -> None:
    """The dunning delay is read from the environment; impossible values stop start-up."""
    loaded = load_settings({"SCAICONTROL_DUNNING_DELAY_DAYS": "3",
                            "SCAICONTROL_SUBSCRIPTION_JOBS_INTERVAL": "12.5"}, env_file="/nope")
    assert lifecycle_policy(loaded).dunning_delay == timedelta(days=3)
    assert loaded.subscription_jobs_interval == 12.5
    for bad in ({"dunning_delay_days": -1}, {"subscription_jobs_interval": 0.0}):
        with pytest.raises(ConfigurationError):
            subscription_jobs(MemoryStorage(), attrs.evolve(SETTINGS, **bad))


def test_a_worker_job_suspends_after_the_configured_delay() -> None:
    """The dunning job built from settings suspends a past_due subscription on time."""
    storage = MemoryStorage()
    world = CommerceWorld.build(storage)
    sub = world.subscribe("scaikey.pro")
    failure = PaymentFailure(amount_cents=9900, currency="EUR")
    world.subscriptions.record_payment_failure(EVERYTHING, sub.id, failure, now=world.now)
    jobs = {job.name: job for job in subscription_jobs(
        storage, attrs.evolve(SETTINGS, dunning_delay_days=2))}
    dunning = jobs["dunning"].run
    assert dunning(world.now + timedelta(days=1)) == 0
    assert dunning(world.now + timedelta(days=2, seconds=1)) == 1
    assert world.subscriptions.get(EVERYTHING, sub.id).status.value == "suspended"
