"""Telling listeners what a commit changed, in this process and (PostgreSQL) in others.

A unit of work notes the tables its statements wrote and the kinds of the outbox messages
it appended. After a commit, the storage's listeners hear about it. On PostgreSQL the same
news goes out with ``NOTIFY`` inside the committing transaction (delivered only if it
commits), and a background thread that ``LISTEN``s passes other processes' commits on,
so a worker process wakes up for events committed by a server process.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Mapping
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Executable

from scaicontrol_core.ports import CommitInfo
from scaicontrol_core.schema import RECORD_KINDS

from ..listeners import CommitListeners

__all__ = ["CHANNEL", "ChangeTracker", "CommitHooks", "PostgresRelay"]

log = logging.getLogger("scaicontrol.storage")

#: The PostgreSQL notification channel.
CHANNEL: Final = "scaicontrol_commits"
_RECORD_TABLES: Final = frozenset(kind.name for kind in RECORD_KINDS)


class ChangeTracker:
    """What the current transaction of one unit of work has written so far."""

    def __init__(self) -> None:
        self._tables: set[str] = set()
        self._outbox_kinds: set[str] = set()

    def note_statement(self, statement: Executable) -> None:
        if isinstance(statement, sa.Insert | sa.Update | sa.Delete):
            name = getattr(statement.table, "name", None)
            if name in _RECORD_TABLES:
                self._tables.add(name)

    def note_table(self, name: str) -> None:
        if name in _RECORD_TABLES:
            self._tables.add(name)

    def note_insert(self, table: sa.Table, values: Mapping[str, Any], outbox: sa.Table) -> None:
        if table is outbox:
            self._outbox_kinds.add(str(values["kind"]))
        elif table.name in _RECORD_TABLES:
            self._tables.add(table.name)

    def take(self) -> CommitInfo:
        """The changes so far, forgetting them (a new transaction starts after a commit)."""
        info = CommitInfo(
            outbox_kinds=frozenset(self._outbox_kinds), record_kinds=frozenset(self._tables)
        )
        self.clear()
        return info

    def clear(self) -> None:
        self._tables.clear()
        self._outbox_kinds.clear()


class CommitHooks:
    """What a storage does around each commit: announce it (PostgreSQL), then tell the
    listeners of this process."""

    def __init__(self, listeners: CommitListeners, relay: PostgresRelay | None) -> None:
        self.listeners = listeners
        self.relay = relay

    def before_commit(self, connection: Connection, info: CommitInfo) -> None:
        if self.relay is not None and (info.outbox_kinds or info.record_kinds):
            self.relay.announce(connection, info)

    def after_commit(self, info: CommitInfo) -> None:
        self.listeners.notify(info)


def _encode(info: CommitInfo, sender: str) -> str:
    return json.dumps(
        {"s": sender, "o": sorted(info.outbox_kinds), "r": sorted(info.record_kinds)},
        separators=(",", ":"),
    )


def _decode(payload: str) -> tuple[str, CommitInfo] | None:
    try:
        data = json.loads(payload)
        info = CommitInfo(
            outbox_kinds=frozenset(str(k) for k in data["o"]),
            record_kinds=frozenset(str(k) for k in data["r"]),
        )
        return str(data["s"]), info
    except (ValueError, KeyError, TypeError):
        return None


class PostgresRelay:
    """Announces commits with NOTIFY and, once started, relays other processes' commits."""

    def __init__(self, engine: Engine, listeners: CommitListeners) -> None:
        self._engine = engine
        self._listeners = listeners
        self.sender = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def announce(self, connection: Connection, info: CommitInfo) -> None:
        connection.execute(
            sa.select(sa.func.pg_notify(CHANNEL, _encode(info, self.sender)))
        )

    def start(self) -> None:
        """Start listening (idempotent); commits of other processes reach the listeners."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="scaicontrol-pg-listen", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:
                log.warning("lost the PostgreSQL notification connection; reconnecting",
                            exc_info=True)
                self._stop.wait(1.0)

    def _listen(self) -> None:
        raw = self._engine.raw_connection()
        try:
            driver: Any = raw.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {CHANNEL}")
            while not self._stop.is_set():
                for note in driver.notifies(timeout=0.5):
                    decoded = _decode(note.payload)
                    if decoded is not None and decoded[0] != self.sender:
                        self._listeners.notify(decoded[1])
        finally:
            raw.invalidate()  # a LISTENing session must not go back to the pool
