"""The real dispatcher and worker jobs against a local receiver, on memory and SQL storage."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from scaicontrol_core.clock import ManualClock
from scaicontrol_core.events import (
    OUTBOX_KIND,
    Topic,
    canonical_json,
    event_schema,
    outbox_message,
)
from scaicontrol_core.ids import RandomIds
from scaicontrol_core.machines.delivery import DeliveryStatus
from scaicontrol_core.machines.outbox import OutboxStatus
from scaicontrol_core.plugins import Plugins, make_plugin_manager
from scaicontrol_core.ports import Storage, StorageConfig
from scaicontrol_core.webhooks import UrlPolicy, generate_secret, sign, unix_seconds, verify
from scaicontrol_core.webhooks.admin import NewSubscription, create_subscription
from scaicontrol_core.webhooks.dispatch import fan_out
from scaicontrol_core.webhooks.model import WebhookSubscription
from scaicontrol_core.webhooks.samples import sample_event
from scaicontrol_server.clock import SystemClock
from scaicontrol_server.settings import Settings
from scaicontrol_server.webhook_dispatcher import DispatcherConfig, WebhookDispatcher
from scaicontrol_server.webhook_jobs import DELIVERY_JOB, FANOUT_JOB, webhook_jobs
from scaicontrol_server.webhook_sender_process import ProcessSender
from scaicontrol_server.workers import WorkerRunner

from .conftest import Backend, Receiver

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
LOCAL = UrlPolicy(allow_http=True, allowlist=("127.0.0.1",))


def open_storage(settings: Settings, plugins: list[object]) -> Storage:
    facade = Plugins(make_plugin_manager(entry_points=False, extra=plugins))
    return facade.open_storage(settings.storage_name, StorageConfig(url=settings.database_url))


def subscribe(storage: Storage, url: str, now: datetime, **fields: Any) -> WebhookSubscription:
    with storage.unit_of_work() as uow:
        sub = create_subscription(
            uow, NewSubscription(name="test", target_url=url, topics=["*"], **fields),
            policy=LOCAL, now=now, ids=RandomIds(), random_bytes=bytes(range(32)),
        )
        uow.commit()
    return sub


def record(storage: Storage, count: int, now: datetime, topic: Topic = Topic.SUBSCRIPTION_CHANGED
           ) -> list[str]:
    ids = RandomIds()
    with storage.unit_of_work() as uow:
        envelopes = [sample_event(topic, now=now, ids=ids) for _ in range(count)]
        for envelope in envelopes:
            uow.outbox.append(outbox_message(envelope))
        uow.commit()
    return [e.event_id for e in envelopes]


def run_workers(storage: Storage, settings: Settings, clock: Any,
                scenario: Callable[[WorkerRunner], Awaitable[None]]) -> None:
    """Run the webhook jobs on a fresh loop while ``scenario`` plays, then stop them."""

    async def main() -> None:
        runner = WorkerRunner(webhook_jobs(storage, settings, clock), clock, storage=storage)
        runner.start()
        try:
            await scenario(runner)
        finally:
            await runner.stop()

    asyncio.run(main())


@pytest.mark.parametrize("sender_process", [True, False], ids=["child-process", "in-process"])
def test_a_committed_event_is_delivered_without_waiting_for_the_tick(
    backend: Backend, receiver: Receiver, sender_process: bool
) -> None:
    """With the tick an hour away, committing events wakes the dispatcher, which delivers
    each one once, signed, valid against the topic's published schema, and records it as
    dispatched: with POSTs from a child process (the default) and from the worker itself."""
    make_settings, plugins = backend
    settings = make_settings(webhook_sender_process=sender_process)
    storage = open_storage(settings, plugins)
    clock = SystemClock()
    try:
        sub = subscribe(storage, receiver.url + "/in", clock.now())
        sent: list[str] = []

        async def scenario(runner: WorkerRunner) -> None:
            await asyncio.sleep(0.2)  # both jobs ran once and are asleep for an hour
            sent.extend(await asyncio.to_thread(record, storage, 5, clock.now()))
            await asyncio.to_thread(receiver.wait_for, 5, 10.0)
            deadline = time.monotonic() + 10
            while runner.jobs and time.monotonic() < deadline:
                with storage.unit_of_work() as uow:
                    if uow.webhook_deliveries.count({"status": DeliveryStatus.DISPATCHED}) == 5:
                        break
                await asyncio.sleep(0.02)

        run_workers(storage, settings, clock, scenario)
        got = [hit.headers["X-ScaiControl-Event-Id"] for hit in receiver.hits]
        assert sorted(got) == sorted(sent)
        schema = Draft202012Validator(event_schema(Topic.SUBSCRIPTION_CHANGED),
                                      format_checker=FormatChecker())
        for hit in receiver.hits:
            schema.validate(json.loads(hit.body))
        assert all(verify(sub.secret, hit.body, hit.headers["X-ScaiControl-Signature"],
                          hit.headers["X-ScaiControl-Timestamp"], datetime.now(UTC))
                   for hit in receiver.hits)
        with storage.unit_of_work() as uow:
            assert uow.webhook_deliveries.count({"status": DeliveryStatus.DISPATCHED}) == 5
            assert uow.webhook_attempts.count() == 5
    finally:
        storage.close()


def test_a_failed_delivery_is_retried_when_due(backend: Backend, receiver: Receiver) -> None:
    """A 503 leaves the delivery pending for a minute; once the clock passes that, the
    delivery job sends it again and the 200 settles it."""
    make_settings, plugins = backend
    settings = make_settings()
    storage = open_storage(settings, plugins)
    clock = ManualClock(datetime.now(UTC))
    receiver.respond(503, 200)
    try:
        subscribe(storage, receiver.url + "/in", clock.now())

        async def scenario(runner: WorkerRunner) -> None:
            await asyncio.to_thread(record, storage, 1, clock.now())
            await asyncio.to_thread(receiver.wait_for, 1)
            await _until(lambda: _statuses(storage) == [(DeliveryStatus.PENDING, 1)])
            clock.advance(timedelta(seconds=59))
            runner.wake(DELIVERY_JOB)
            await asyncio.sleep(0.3)
            assert len(receiver.hits) == 1  # not due yet
            clock.advance(timedelta(seconds=2))
            runner.wake(DELIVERY_JOB)
            await asyncio.to_thread(receiver.wait_for, 2)
            await _until(lambda: _statuses(storage) == [(DeliveryStatus.DISPATCHED, 2)])

        run_workers(storage, settings, clock, scenario)
        first, second = receiver.hits
        assert first.body == second.body
        assert first.headers["X-ScaiControl-Event-Id"] == second.headers["X-ScaiControl-Event-Id"]
        assert int(second.headers["X-ScaiControl-Timestamp"]) - int(
            first.headers["X-ScaiControl-Timestamp"]) == 61
    finally:
        storage.close()


def test_a_dead_workers_deliveries_are_taken_over_after_the_lease(
    backend: Backend, receiver: Receiver
) -> None:
    """Events leased by a worker that vanished before settling them are fanned out and sent
    by another worker once the lease has expired, and not before."""
    make_settings, plugins = backend
    settings = make_settings(webhook_lease_seconds=30.0)
    storage = open_storage(settings, plugins)
    clock = ManualClock(datetime.now(UTC))
    try:
        subscribe(storage, receiver.url + "/in", clock.now())
        record(storage, 3, clock.now())
        with storage.unit_of_work(cross_tenant=True) as uow:  # a worker that then dies
            taken = fan_out(uow, owner="gone", now=clock.now(), lease=timedelta(seconds=30),
                            limit=50)
            uow.commit()
        assert len(taken.jobs) == 3
        assert _events(storage) == [(OutboxStatus.PENDING, "gone")] * 3

        async def scenario(runner: WorkerRunner) -> None:
            clock.advance(timedelta(seconds=29))
            runner.wake(FANOUT_JOB)
            runner.wake(DELIVERY_JOB)
            await asyncio.sleep(0.3)
            assert receiver.hits == []
            clock.advance(timedelta(seconds=1))
            runner.wake(FANOUT_JOB)
            await asyncio.to_thread(receiver.wait_for, 3)
            await _until(lambda: _statuses(storage) == [(DeliveryStatus.DISPATCHED, 1)] * 3)

        run_workers(storage, settings, clock, scenario)
        assert len(receiver.hits) == 3
        assert _events(storage) == [(OutboxStatus.DONE, None)] * 3
        with storage.unit_of_work() as uow:
            workers = {a.worker for a in uow.webhook_attempts.find()}
        assert len(workers) == 1 and "gone" not in workers
    finally:
        storage.close()


def test_first_attempts_of_an_event_are_recorded_together(
    backend: Backend, receiver: Receiver
) -> None:
    """With two subscriptions, one answering slowly, neither delivery is stored while the
    slow one is on the wire; once both attempts finished, both are recorded and the event
    is completed."""
    make_settings, plugins = backend
    settings = make_settings()
    storage = open_storage(settings, plugins)
    clock = ManualClock(datetime.now(UTC))
    slow = Receiver()
    slow.delay = 1.0
    slow.start()
    try:
        fast_sub = subscribe(storage, receiver.url + "/fast", clock.now())
        slow_sub = subscribe(storage, slow.url + "/slow", clock.now())
        seen: list[tuple[int, list[tuple[OutboxStatus, str | None]]]] = []

        async def scenario(runner: WorkerRunner) -> None:
            await asyncio.to_thread(record, storage, 1, clock.now())
            await asyncio.to_thread(receiver.wait_for, 1)
            await asyncio.to_thread(slow.wait_for, 1)
            await asyncio.sleep(0.3)  # the fast answer is in, the slow one is not
            seen.append(await asyncio.to_thread(_stored_and_events, storage))
            await _until(lambda: len(_statuses(storage)) == 2)

        run_workers(storage, settings, clock, scenario)
        [(stored_early, events_early)] = seen
        assert stored_early == 0
        [(status, owner)] = events_early
        assert status is OutboxStatus.PENDING and owner is not None
        assert len(receiver.hits) == 1 and len(slow.hits) == 1
        with storage.unit_of_work() as uow:
            deliveries = {d.subscription_id: d for d in uow.webhook_deliveries.find()}
            attempts = uow.webhook_attempts.find()
        assert set(deliveries) == {fast_sub.id, slow_sub.id}
        assert all(d.status is DeliveryStatus.DISPATCHED and d.attempt_count == 1
                   for d in deliveries.values())
        assert sorted(a.delivery_id for a in attempts) == sorted(
            d.id for d in deliveries.values())
        assert _events(storage) == [(OutboxStatus.DONE, None)]
    finally:
        slow.stop()
        storage.close()


def test_a_first_attempt_left_too_little_lease_is_stored_due_and_sent_later(
    backend: Backend, receiver: Receiver
) -> None:
    """When a first attempt waits for a free sender slot until less than the timeout plus
    the margin is left on its event's lease, nothing is POSTed: the event still completes
    and the delivery is stored pending and due, for the claim job to send like a retry."""
    make_settings, plugins = backend
    settings = make_settings(webhook_concurrency=1, webhook_sender_process=False)  # one slot
    storage = open_storage(settings, plugins)
    clock = ManualClock(datetime.now(UTC))
    subscribe(storage, receiver.url + "/hook", clock.now())
    first, second = record(storage, 2, clock.now())
    dispatcher = WebhookDispatcher(storage, DispatcherConfig.from_settings(settings),
                                   clock=clock)
    receiver.delay = 0.2  # the one slot stays busy with the first event for a while

    async def main() -> None:
        try:
            # (with one slot, fan-out starts with batches of one)
            assert [await dispatcher.fan_out(), await dispatcher.fan_out()] == [1, 1]
            # while the second event waits, its lease is left with 10 s (< 10 s + 2 s)
            clock.advance(settings_lease(settings) - timedelta(seconds=10))
            await dispatcher.idle()
            assert _event_ids(receiver) == [first] and dispatcher.stats.dropped == 1
            assert sorted(_statuses(storage)) == [(DeliveryStatus.DISPATCHED, 1),
                                                  (DeliveryStatus.PENDING, 0)]
            assert _events(storage) == [(OutboxStatus.DONE, None)] * 2
            assert await dispatcher.claim() == 1
            await dispatcher.idle()
        finally:
            await dispatcher.close()

    asyncio.run(main())
    assert _event_ids(receiver) == [first, second]
    assert _statuses(storage) == [(DeliveryStatus.DISPATCHED, 1)] * 2
    storage.close()


def _event_ids(receiver: Receiver) -> list[str]:
    return [hit.headers["X-ScaiControl-Event-Id"] for hit in receiver.hits]


def settings_lease(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.webhook_lease_seconds)


def test_a_subscriber_built_from_the_recipe_accepts_and_rejects(backend: Backend) -> None:
    """The example receiver (spec recipe only) accepts real deliveries, answers 409 to a
    repeat, and rejects a body changed by one byte."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import webhook_receiver
    finally:
        sys.path.remove(str(EXAMPLES))
    make_settings, plugins = backend
    settings = make_settings()
    storage = open_storage(settings, plugins)
    clock = SystemClock()
    secret = generate_secret(bytes(range(40)))
    server, inbox = webhook_receiver.make_server(secret)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/webhooks"
        subscribe(storage, url, clock.now(), secret=secret)

        async def scenario(runner: WorkerRunner) -> None:
            await asyncio.to_thread(record, storage, 3, clock.now())
            await _until(lambda: len(inbox.events) == 3)

        run_workers(storage, settings, clock, scenario)
        assert inbox.rejected == 0
        event = next(iter(inbox.events.values()))
        body = canonical_json(event)
        headers = {"X-ScaiControl-Signature": sign(secret, body),
                   "X-ScaiControl-Timestamp": str(unix_seconds(datetime.now(UTC))),
                   "Content-Type": "application/json"}
        assert httpx.post(url, content=body, headers=headers).status_code == 409
        tampered = body.replace(b"scaikey", b"scaikez", 1)
        assert tampered != body
        assert httpx.post(url, content=tampered, headers=headers).status_code == 401
        assert inbox.rejected == 1 and inbox.duplicates == 1
    finally:
        server.shutdown()
        server.server_close()
        storage.close()


def _statuses(storage: Storage) -> list[tuple[DeliveryStatus, int]]:
    with storage.unit_of_work() as uow:
        return [(d.status, d.attempt_count) for d in uow.webhook_deliveries.find()]


def _events(storage: Storage) -> list[tuple[OutboxStatus, str | None]]:
    with storage.unit_of_work() as uow:
        return [(m.status, m.lease_owner) for m in uow.outbox.find(kinds=[OUTBOX_KIND])]


def _stored_and_events(storage: Storage) -> tuple[int, list[tuple[OutboxStatus, str | None]]]:
    with storage.unit_of_work() as uow:
        stored = uow.webhook_deliveries.count()
    return stored, _events(storage)


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_dispatcher_jobs_close_cleanly_when_idle(backend: Backend) -> None:
    """Starting and stopping the jobs with nothing to do sends nothing and leaves no task."""
    make_settings, plugins = backend
    settings = make_settings()
    storage = open_storage(settings, plugins)
    try:

        async def scenario(runner: WorkerRunner) -> None:
            await asyncio.sleep(0.05)

        run_workers(storage, settings, SystemClock(), scenario)
        with storage.unit_of_work() as uow:
            assert uow.webhook_deliveries.count() == 0
    finally:
        storage.close()


def test_closing_with_deliveries_waiting_starts_no_new_sender(
    backend: Backend, receiver: Receiver
) -> None:
    """Stopping before everything is sent ends the requests in flight; their results hand
    no waiting delivery to the sender again, so no second child process is started."""
    make_settings, plugins = backend
    settings = make_settings(webhook_concurrency=1, webhook_sender_process=True)
    storage = open_storage(settings, plugins)
    clock = SystemClock()
    subscribe(storage, receiver.url + "/hook", clock.now())
    record(storage, 8, clock.now())
    dispatcher = WebhookDispatcher(storage, DispatcherConfig.from_settings(settings),
                                   clock=clock)
    receiver.delay = 2.0

    async def main() -> tuple[int, int, bool]:
        taken = 0
        while taken < 8:
            taken += await dispatcher.fan_out()
        await dispatcher.close(timeout=0.3)
        await asyncio.sleep(0.3)  # time for a wrongly started child to show
        sender = dispatcher._sender
        assert isinstance(sender, ProcessSender)
        return dispatcher._unsettled, sender.children_started, sender._process is None

    unsettled, children, stopped = asyncio.run(main())
    assert unsettled > 0 and children == 1 and stopped
    storage.close()
