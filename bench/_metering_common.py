"""Shared pieces of the metering benchmarks: preparing a database and running the server.

The benchmarks only ever write to databases of their own: by default a PostgreSQL
database named ``scaicontrol_metering_bench`` (created when missing) and a SQLite file in
the system temporary folder. :func:`prepare` refuses to drop tables anywhere else, so a
mistyped URL can never wipe the shared ``test`` database the test suites use.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
from scaicontrol_core.demo import load_demo
from scaicontrol_core.ports import StorageConfig

__all__ = [
    "BENCH_DATABASE",
    "POSTGRES_URL",
    "SQLITE_FOLDER",
    "Server",
    "database_urls",
    "ensure_postgres_database",
    "free_port",
    "is_bench_database",
    "load_average",
    "percentile",
    "prepare",
    "sqlite_url",
]

#: The only server database the benchmarks create, fill and drop tables in.
BENCH_DATABASE: Final = "scaicontrol_metering_bench"
POSTGRES_URL: Final = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
#: Where the SQLite benchmark file lives (shared by ingest.py and usage_query.py).
SQLITE_FOLDER: Final = str(Path(tempfile.gettempdir()) / "scaicontrol-metering-bench")


def sqlite_url(folder: str) -> str:
    Path(folder).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(folder) / 'bench.db'}"


def database_urls(postgres_url: str, sqlite_folder: str) -> dict[str, str]:
    return {"sqlite": sqlite_url(sqlite_folder), "postgresql": postgres_url}


def is_bench_database(url: str) -> bool:
    """Whether ``url`` is a benchmark database: a SQLite file named ``bench.db``, or a
    server database whose name contains ``bench`` (never ``test`` or a real one)."""
    parsed = sa.make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() == "sqlite":
        return Path(name).name == "bench.db"
    return "bench" in name and name != "test"


def ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it does not exist yet."""
    target = sa.make_url(url)
    if target.get_backend_name() != "postgresql":
        return
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def load_average() -> str:
    """The 1/5/15-minute load averages, printed with every result (others may share the host)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def prepare(url: str, *, fresh: bool) -> None:
    """Migrate (dropping every table first when ``fresh``) and load the demo data.

    Refuses any database that :func:`is_bench_database` does not recognise.
    """
    if not is_bench_database(url):
        raise SystemExit(f"refusing to use {sa.make_url(url).render_as_string()}: benchmarks "
                         f"run only on a dedicated database (e.g. {BENCH_DATABASE})")
    ensure_postgres_database(url)
    storage = SqlAlchemyStorage.from_config(StorageConfig(url=url))
    try:
        if fresh:
            with storage.connection() as connection, connection.begin():
                existing = sa.MetaData()
                existing.reflect(connection)
                existing.drop_all(connection)
        storage.migrator.upgrade()
        with storage.unit_of_work(cross_tenant=True) as uow:
            load_demo(uow, now=datetime.now(UTC))
            uow.commit()
    finally:
        storage.close()


class Server:
    """``scaicontrol serve`` in a child process on a free port, workers off."""

    def __init__(self, url: str) -> None:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SCAICONTROL_PORT": str(self.port),
               "SCAICONTROL_WORKERS": "false", "SCAICONTROL_LOG_LEVEL": "WARNING"}
        command = [sys.executable, "-m", "scaicontrol_server.cli", "serve"]
        self.process = subprocess.Popen(command, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
