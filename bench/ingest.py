"""Usage ingestion benchmark: events per second through HTTP, and the bare driver.

    python bench/ingest.py [--events 1000000] [--batch 1000] [--concurrency 8]
                           [--databases sqlite,postgresql]

For each database: a fresh schema with the demo data, a real ``scaicontrol serve`` in a
child process, and ``--events`` usage events posted in batches of ``--batch`` by
``--concurrency`` clients with the demo service key; prints events per second. Then the
same rows are inserted with SQLAlchemy Core alone (one multi-row insert per batch, no
deduplication, no rollups) and the ratio HTTP / driver is printed. The database is kept
for ``bench/usage_query.py``.

Databases: PostgreSQL ``scaicontrol_metering_bench`` (created when missing; change with
``--postgres-url``) and ``bench.db`` in a temporary folder (``--sqlite-folder``). Tables are
dropped only there: any other database is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _metering_common import (
    POSTGRES_URL,
    SQLITE_FOLDER,
    Server,
    database_urls,
    load_average,
    prepare,
)

from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
from scaicontrol_adapters.storage.sqlalchemy.tables_metering import usage_events
from scaicontrol_core.metering_demo import DEMO_SERVICE_KEY
from scaicontrol_core.ports import StorageConfig

TENANTS = ("tnt_demo_acme", "tnt_demo_globex", "tnt_demo_initech")


def batches(total: int, size: int, prefix: str, now: datetime) -> Iterator[list[dict[str, Any]]]:
    """Events of the demo ScaiKey ``logins`` metric spread over the last hour."""
    for start in range(0, total, size):
        yield [
            {"tenant_id": TENANTS[n % 3], "metric_slug": "logins", "quantity": 1,
             "occurred_at": (now - timedelta(seconds=n % 3600)).isoformat(),
             "idempotency_key": f"{prefix}-{n}", "properties": {"user_id": f"u{n % 500}"}}
            for n in range(start, min(total, start + size))
        ]


async def through_http(base: str, bodies: list[bytes], concurrency: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"X-ScaiControl-Key": DEMO_SERVICE_KEY, "Content-Type": "application/json"}

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            async with session.post(f"{base}/api/v1/metering/events", data=body,
                                    headers=headers) as response:
                if response.status != 202:
                    raise RuntimeError(f"{response.status}: {await response.text()}")

    async with aiohttp.ClientSession() as session:
        began = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        return time.perf_counter() - began


def through_driver(url: str, rows: list[list[dict[str, Any]]]) -> float:
    storage = SqlAlchemyStorage.from_config(StorageConfig(url=url))
    try:
        began = time.perf_counter()
        for batch in rows:
            with storage.connection() as connection, connection.begin():
                connection.execute(usage_events.insert(), batch)
        return time.perf_counter() - began
    finally:
        storage.close()


def driver_rows(total: int, size: int, now: datetime) -> list[list[dict[str, Any]]]:
    return [
        [{"tenant_id": e["tenant_id"], "idempotency_key": "driver-" + e["idempotency_key"],
          "service_slug": "scaikey", "metric_slug": e["metric_slug"], "quantity": e["quantity"],
          "occurred_at": datetime.fromisoformat(e["occurred_at"]), "received_at": now,
          "properties": e["properties"]} for e in batch]
        for batch in batches(total, size, "d", now)
    ]


def run_database(name: str, url: str, args: argparse.Namespace) -> None:
    prepare(url, fresh=True)
    print(f"{name}: before the run, {load_average()}")
    now = datetime.now(UTC)
    bodies = [json.dumps({"events": b}).encode() for b in batches(args.events, args.batch,
                                                                  "h", now)]
    server = Server(url)
    try:
        seconds = asyncio.run(through_http(server.base, bodies, args.concurrency))
    finally:
        server.stop()
    http_rate = args.events / seconds
    print(f"{name}: HTTP {args.events} events in {seconds:.1f} s = {http_rate:,.0f} events/s")
    driver_seconds = through_driver(url, driver_rows(args.events, args.batch, now))
    driver_rate = args.events / driver_seconds
    print(f"{name}: driver alone {driver_rate:,.0f} events/s; "
          f"HTTP / driver = {http_rate / driver_rate:.2f}; after the run, {load_average()}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--sqlite-folder", default=SQLITE_FOLDER)
    args = parser.parse_args(argv)
    urls = database_urls(args.postgres_url, args.sqlite_folder)
    for name in args.databases.split(","):
        run_database(name, urls[name], args)


if __name__ == "__main__":
    main()
