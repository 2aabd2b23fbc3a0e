"""The webhook dispatcher as two worker jobs: fan-out and delivery.

``webhook-fanout`` wakes when a commit appends an event to the outbox; ``webhook-delivery``
wakes when someone else's commit writes deliveries (a redelivery, a replay). Both also run
every ``SCAICONTROL_WEBHOOK_TICK_SECONDS`` as a safety net, which also picks up events and
deliveries whose lease expired in a worker that died, and retries that have become due.
"""

from __future__ import annotations

from scaicontrol_core.clock import Clock
from scaicontrol_core.events import OUTBOX_KIND
from scaicontrol_core.ports import CommitInfo, Storage

from .settings import Settings
from .webhook_dispatcher import DispatcherConfig, WebhookDispatcher
from .workers import Job

__all__ = ["DELIVERY_JOB", "FANOUT_JOB", "webhook_jobs"]

FANOUT_JOB = "webhook-fanout"
DELIVERY_JOB = "webhook-delivery"


def _events_committed(info: CommitInfo) -> bool:
    return OUTBOX_KIND in info.outbox_kinds


def _deliveries_written(info: CommitInfo) -> bool:
    return "webhook_deliveries" in info.record_kinds


def webhook_jobs(
    storage: Storage, settings: Settings, clock: Clock, *, dispatcher: WebhookDispatcher | None
    = None
) -> list[Job]:
    """The two jobs, sharing one dispatcher (closed with the runner)."""
    config = DispatcherConfig.from_settings(settings)
    dispatcher = dispatcher or WebhookDispatcher(storage, config, clock=clock)
    return [
        Job(name=FANOUT_JOB, interval=config.tick, run=dispatcher.fan_out,
            wake_on=_events_committed, close=dispatcher.close, open=dispatcher.open),
        Job(name=DELIVERY_JOB, interval=config.tick, run=dispatcher.claim,
            wake_on=_deliveries_written),
    ]
