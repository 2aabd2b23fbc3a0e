"""Webhook delivery benchmark: the real dispatcher against a local receiver.

    python bench/webhooks.py [--events 5000] [--concurrency 64] [--databases sqlite,postgresql]
                             [--workers N] [--rounds 3]

For each database it runs ``--rounds`` rounds (3) against an aiohttp receiver in its own
process, each made of:

1. throughput: on a freshly migrated database, N events are committed, then freshly
   started worker jobs (fan-out and delivery, driven by the real ``WorkerRunner``)
   deliver them. With ``--workers N`` (PostgreSQL), the jobs run in N ``scaicontrol
   worker`` processes sharing the concurrency instead, timed from the moment the first
   one is running;
2. (last round only) latency: events are committed one per transaction at a steady rate
   while the workers run; commit-to-receipt latency (p50, p99) is measured per event;
3. baseline, right after: the same signed bodies POSTed by a bare aiohttp client at the
   same concurrency.

Both sides are timed from their start until the receiver has the last POST (by its own
clock, so the polling does not count). It prints the median deliveries per second, the
median bare-client rate, and the median of the rounds' ratios dispatcher / bare client:
a round of either side is over in about a second, on a machine whose speed changes from
one second to the next, so each dispatcher round is compared with the bare round that
follows it. The JSON line lists every round.

PostgreSQL uses ``--postgres-url`` (default: database ``scaicontrol_bench`` on the local
server, created if missing; its tables are dropped and migrated afresh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp import web

from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
from scaicontrol_adapters.storage.sqlalchemy.tables import metadata
from scaicontrol_core.events import (
    ChangeKind,
    OwnerKind,
    SubscriptionChanged,
    SubscriptionStatus,
    build_event,
    envelope_to_json,
)
from scaicontrol_core.ids import RandomIds
from scaicontrol_core.notifications import record_event
from scaicontrol_core.ports import StorageConfig
from scaicontrol_core.webhooks import UrlPolicy, delivery_headers
from scaicontrol_core.webhooks.admin import NewSubscription, create_subscription
from scaicontrol_core.webhooks.model import WebhookSubscription
from scaicontrol_server.clock import SystemClock
from scaicontrol_server.settings import Settings
from scaicontrol_server.webhook_jobs import webhook_jobs
from scaicontrol_server.workers import WorkerRunner

__all__ = ["main"]

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/scaicontrol_bench"
BASE = datetime(2026, 1, 1, tzinfo=UTC)


# --- the receiver (a separate process) -------------------------------------------------


def run_receiver(port: int) -> None:
    """Accept every POST; remember when each event id arrived (``time.time()``)."""
    arrivals: list[tuple[str, float]] = []

    async def receive(request: web.Request) -> web.Response:
        arrivals.append((request.headers.get("X-ScaiControl-Event-Id", ""), time.time()))
        await request.read()
        return web.Response(status=204)

    async def stats(request: web.Request) -> web.Response:
        last = arrivals[-1][1] if arrivals else None
        return web.json_response({"count": len(arrivals), "last": last})

    async def dump(request: web.Request) -> web.Response:
        return web.json_response(arrivals)

    async def reset(request: web.Request) -> web.Response:
        arrivals.clear()
        return web.json_response({"count": 0})

    app = web.Application()
    app.router.add_post("/hook", receive)
    app.router.add_get("/stats", stats)
    app.router.add_get("/arrivals", dump)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class Receiver:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([sys.executable, __file__, "--receiver", str(port)])
        self._session: aiohttp.ClientSession | None = None

    async def call(self, method: str, path: str) -> Any:
        if self._session is None:  # one connection for all polling: cheap for this process
            self._session = aiohttp.ClientSession()
        async with self._session.request(method, self.url + path) as response:
            return await response.json()

    async def wait_ready(self) -> None:
        for _ in range(100):
            try:
                await self.call("GET", "/stats")
                return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        raise RuntimeError("the receiver did not start")

    async def wait_for(self, count: int, timeout: float = 600.0) -> float:
        """Wait until ``count`` POSTs arrived; returns when the last one did
        (``time.time()``, so that how often this polls does not count)."""
        deadline = time.monotonic() + timeout
        while (stats := await self.call("GET", "/stats"))["count"] < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only some of {count} deliveries arrived")
            await asyncio.sleep(0.05)
        return float(stats["last"])

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        self.process.terminate()
        self.process.wait(10)


# --- worker processes ------------------------------------------------------------------


class WorkerProcesses:
    """``count`` real ``scaicontrol worker`` processes sharing ``concurrency``."""

    def __init__(self, url: str, count: int, concurrency: int) -> None:
        script = Path(sys.executable).with_name("scaicontrol")
        command = [str(script)] if script.exists() else [shutil.which("scaicontrol") or
                                                        "scaicontrol"]
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SCAICONTROL_", "DATABASE_URL"))}
        env.update({
            "DATABASE_URL": url,
            "SCAICONTROL_WEBHOOK_ALLOW_HTTP": "true",
            "SCAICONTROL_WEBHOOK_ALLOWLIST": "127.0.0.1",
            "SCAICONTROL_WEBHOOK_CONCURRENCY": str(max(1, concurrency // count)),
            "SCAICONTROL_LOG_LEVEL": "WARNING",
        })
        self.folder = tempfile.mkdtemp(prefix="scaicontrol-bench-workers-")
        self.processes = [
            subprocess.Popen([*command, "worker"], env=env, text=True, cwd=self.folder,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(count)
        ]

    def wait_running(self) -> float:
        """Block until every worker says it runs; returns when the first one did."""
        first: float | None = None
        for process in self.processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if "worker running" not in line:
                raise RuntimeError(f"a worker did not start: {line}{process.stdout.read()}")
            first = first or time.time()
        assert first is not None
        return first

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.communicate(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


# --- events ----------------------------------------------------------------------------


def event_payload(n: int) -> SubscriptionChanged:
    """A realistic event: a quantity change of subscription n of one of 50 tenants."""
    return SubscriptionChanged(
        change_kind=ChangeKind.QUANTITY_CHANGE,
        subscription_id=f"00000000-0000-4000-8000-{n:012d}", owner_kind=OwnerKind.TENANT,
        tenant_id=f"tnt_bench{n % 50}", partner_id="prt_bench",
        scaicontrol_customer_id=f"tnt_bench{n % 50}", state=SubscriptionStatus.ACTIVE,
        previous_state=SubscriptionStatus.ACTIVE, plan_key="scaikey.pro", previous_plan_key=None,
        quantity=n % 7 + 2, previous_quantity=n % 7 + 1, mrr_amount_cents=4900, currency="EUR",
        pending_cancellation_at=None, current_period_end=BASE + timedelta(days=30),
        changed_at=BASE + timedelta(seconds=n),
    )


def commit_events(storage: SqlAlchemyStorage, numbers: Sequence[int], ids: RandomIds) -> None:
    with storage.unit_of_work(cross_tenant=True) as uow:
        for n in numbers:
            record_event(uow, build_event(event_payload(n), occurred_at=BASE, ids=ids))
        uow.commit()


# --- one database ----------------------------------------------------------------------


def open_storage(url: str) -> SqlAlchemyStorage:
    storage = SqlAlchemyStorage.from_config(StorageConfig(url=url))
    with storage.connection() as connection, connection.begin():
        existing = sa.MetaData()
        existing.reflect(connection)
        existing.drop_all(connection)
    storage.migrator.upgrade()
    return storage


def subscribe(storage: SqlAlchemyStorage, url: str, clock: SystemClock, ids: RandomIds
              ) -> WebhookSubscription:
    with storage.unit_of_work() as uow:
        subscription = create_subscription(
            uow, NewSubscription(name="bench", target_url=url, topics=["subscription.*"]),
            policy=UrlPolicy(allow_http=True, allowlist=("127.0.0.1",)), now=clock.now(),
            ids=ids, random_bytes=bytes(32),
        )
        uow.commit()
    return subscription


def empty(storage: SqlAlchemyStorage) -> None:
    with storage.connection() as connection, connection.begin():
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


async def stop_workers(runner: WorkerRunner | None, workers: WorkerProcesses | None) -> None:
    if runner is not None:
        await runner.stop()
    if workers is not None:
        await asyncio.to_thread(workers.stop)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def signed_bodies(count: int, secret: str, ids: RandomIds, clock: SystemClock
                  ) -> list[tuple[bytes, dict[str, str]]]:
    """The bodies of events 0..count-1 as the dispatcher sends them, signed with ``secret``."""
    bodies = []
    for n in range(count):
        envelope = build_event(event_payload(n), occurred_at=BASE, ids=ids)
        body = envelope_to_json(envelope)
        bodies.append((body, delivery_headers(envelope, body, secret, clock.now())))
    return bodies


async def bare_round(receiver: Receiver, bodies: list[tuple[bytes, dict[str, str]]],
                     concurrency: int) -> float:
    """POSTs per second of a bare aiohttp client (new connections, like new workers)."""
    await receiver.call("POST", "/reset")
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(body: bytes, headers: dict[str, str]) -> None:
            async with semaphore, session.post(
                receiver.url + "/hook", data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()

        started = time.time()
        await asyncio.gather(*(post(body, headers) for body, headers in bodies))
    return len(bodies) / (await receiver.wait_for(len(bodies)) - started)


async def run_database(
    name: str, url: str, receiver: Receiver, args: argparse.Namespace
) -> dict[str, Any]:
    ids = RandomIds()
    clock = SystemClock()
    settings = Settings(
        database_url=url, webhook_allow_http=True, webhook_allowlist=("127.0.0.1",),
        webhook_concurrency=args.concurrency,
    )
    storage: SqlAlchemyStorage | None = None
    workers: WorkerProcesses | None = None
    runner: WorkerRunner | None = None
    throughputs: list[float] = []
    rates: list[float] = []
    latencies: list[float] = []
    bodies: list[tuple[bytes, dict[str, str]]] = []
    try:
        for number in range(args.rounds):
            # 1. throughput: a fresh database with a backlog of N events, then freshly
            #    started workers; timed until the receiver has the last POST
            await receiver.call("POST", "/reset")
            if storage is not None:
                storage.close()
            storage = open_storage(url)
            subscription = subscribe(storage, receiver.url + "/hook", clock, ids)
            for start in range(0, args.events, 500):
                commit_events(storage, range(start, min(start + 500, args.events)), ids)
            if args.workers:
                workers = WorkerProcesses(url, args.workers, args.concurrency)
                started = await asyncio.to_thread(workers.wait_running)
            else:
                runner = WorkerRunner(webhook_jobs(storage, settings, clock), clock,
                                      storage=storage)
                await runner.open()
                started = time.time()
                runner.start()
            throughputs.append(args.events / (await receiver.wait_for(args.events) - started))
            if not bodies:
                bodies = signed_bodies(args.events, subscription.secret, ids, clock)
            if number == args.rounds - 1:
                # 2. latency, once, while the last round's workers run
                latencies = await measure_latency(storage, receiver, args, ids)
            await stop_workers(runner, workers)
            runner = workers = None
            # 3. right after, the same signed bodies from a bare client
            rates.append(await bare_round(receiver, bodies, args.concurrency))
    finally:
        await stop_workers(runner, workers)
    assert storage is not None
    empty(storage)
    storage.close()
    ratios = [mine / bare for mine, bare in zip(throughputs, rates, strict=True)]
    return {
        "rounds_per_s": throughputs,
        "bare_rounds_per_s": rates,
        "round_ratios": ratios,
        "deliveries_per_s": statistics.median(throughputs),
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
        "bare_per_s": statistics.median(rates),
        "ratio": statistics.median(ratios),
    }


async def measure_latency(storage: SqlAlchemyStorage, receiver: Receiver,
                          args: argparse.Namespace, ids: RandomIds) -> list[float]:
    """Commit-to-receipt milliseconds of events committed one per transaction at a
    steady rate."""
    await receiver.call("POST", "/reset")
    committed: dict[str, float] = {}

    def produce() -> None:
        interval = 1.0 / args.rate
        next_at = time.perf_counter()
        for n in range(args.events, args.events + args.latency_events):
            envelope = build_event(event_payload(n), occurred_at=BASE, ids=ids)
            with storage.unit_of_work(cross_tenant=True) as uow:
                record_event(uow, envelope)
                uow.commit()
            committed[envelope.event_id] = time.time()
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))

    producer = threading.Thread(target=produce)
    producer.start()
    await asyncio.to_thread(producer.join)
    await receiver.wait_for(args.latency_events)
    arrivals = await receiver.call("GET", "/arrivals")
    return [(at - committed[event_id]) * 1000 for event_id, at in arrivals]


def rounded(value: float | list[float]) -> float | list[float]:
    """Rates as whole numbers, everything else (ratios, milliseconds) to 3 decimals."""
    if isinstance(value, list):
        return [round(v) if v >= 10 else round(v, 3) for v in value]
    return round(value, 3)


def ensure_postgres_database(url: str) -> None:
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).first()
            if exists is None:
                connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    finally:
        admin.dispose()


async def run(args: argparse.Namespace) -> None:
    receiver = Receiver(args.port)
    try:
        await receiver.wait_ready()
        for name in args.databases.split(","):
            if name == "sqlite":
                folder = Path(tempfile.mkdtemp(prefix="scaicontrol-bench-"))
                url = f"sqlite:///{folder / 'bench.db'}"
            elif name == "postgresql":
                url = args.postgres_url
                ensure_postgres_database(url)
            else:
                raise SystemExit(f"unknown database {name!r}")
            if args.workers and name == "sqlite":
                raise SystemExit("--workers needs PostgreSQL (SQLite wakes no other process)")
            result = await run_database(name, url, receiver, args)
            print(json.dumps({"database": name, "events": args.events,
                              "concurrency": args.concurrency, "workers": args.workers,
                              **{k: rounded(v) for k, v in result.items()}}))
            print(
                f"{name:10s} {args.workers or 'in-process':>10} "
                f"{result['deliveries_per_s']:8.0f} deliveries/s   "
                f"latency p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms   "
                f"bare client {result['bare_per_s']:8.0f}/s   ratio {result['ratio']:.2f}",
                flush=True,
            )
    finally:
        await receiver.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--rounds", type=int, default=3,
                        help="throughput rounds of each side; the median is reported")
    parser.add_argument("--latency-events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="events/s in the latency run")
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument("--workers", type=int, default=0,
                        help="run the jobs in this many worker processes (PostgreSQL)")
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receiver:
        run_receiver(args.receiver)
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
