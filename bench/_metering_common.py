"""Shared pieces of the metering benchmarks: preparing a database and running the server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
from scaicontrol_core.demo import load_demo
from scaicontrol_core.ports import StorageConfig

__all__ = ["Server", "free_port", "percentile", "prepare", "sqlite_url"]


def sqlite_url(folder: str) -> str:
    return f"sqlite:///{folder}/bench.db"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def prepare(url: str, *, fresh: bool) -> None:
    """Migrate (dropping every table first when ``fresh``) and load the demo data."""
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
