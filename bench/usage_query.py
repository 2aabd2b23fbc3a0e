"""Usage query benchmark: p50 and p99 of a tenant's monthly aggregate over HTTP.

    python bench/usage_query.py [--requests 500] [--databases sqlite,postgresql]

Run after ``bench/ingest.py`` (it reuses that database and its events). Logs the demo
tenant admin of Acme in and times ``GET /api/v1/usage/summary`` (the current month's
rollups of every metric, with quota limits from the plan). Same databases and options as
``bench/ingest.py`` (never the shared ``test`` database).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _metering_common import (
    POSTGRES_URL,
    SQLITE_FOLDER,
    Server,
    database_urls,
    load_average,
    percentile,
    prepare,
)


async def measure(base: str, requests: int) -> list[float]:
    async with aiohttp.ClientSession() as session:
        login = {"grant_type": "password", "username": "admin@acme.example",
                 "password": "scaicontrol-demo"}
        async with session.post(f"{base}/api/v1/auth/token", json=login) as response:
            token = json.loads(await response.text())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        timings = []
        for _ in range(requests):
            began = time.perf_counter()
            async with session.get(f"{base}/api/v1/usage/summary", headers=headers) as reply:
                body = await reply.json()
                if reply.status != 200:
                    raise RuntimeError(str(body))
            timings.append((time.perf_counter() - began) * 1000)
        logins = next(m for s in body["data"]["services"] for m in s["metrics"]
                      if m["metric_slug"] == "logins")
        print(f"  (Acme logins this month: {logins['value']:,})")
        return timings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--sqlite-folder", default=SQLITE_FOLDER)
    args = parser.parse_args(argv)
    urls = database_urls(args.postgres_url, args.sqlite_folder)
    for name in args.databases.split(","):
        prepare(urls[name], fresh=False)
        print(f"{name}: before the run, {load_average()}")
        server = Server(urls[name])
        try:
            timings = asyncio.run(measure(server.base, args.requests))
        finally:
            server.stop()
        print(f"{name}: monthly summary p50 {percentile(timings, 0.5):.1f} ms, "
              f"p99 {percentile(timings, 0.99):.1f} ms over {args.requests} requests")


if __name__ == "__main__":
    main()
