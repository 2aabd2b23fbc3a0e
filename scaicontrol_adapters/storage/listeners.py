"""Commit listeners shared by the storage backends: register, unregister, notify safely."""

from __future__ import annotations

import logging
import threading

from scaicontrol_core.ports import CommitInfo, CommitListener

__all__ = ["CommitListeners"]

log = logging.getLogger("scaicontrol.storage")


class CommitListeners:
    """A thread-safe set of listeners; a failing listener is logged and never breaks the
    commit that already happened, nor the other listeners."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[CommitListener] = []

    def add(self, listener: CommitListener) -> None:
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)

    def remove(self, listener: CommitListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def __bool__(self) -> bool:
        return bool(self._listeners)

    def notify(self, info: CommitInfo) -> None:
        """Call every listener with ``info``, unless the commit changed nothing."""
        if not (info.outbox_kinds or info.record_kinds):
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(info)
            except Exception:
                log.exception("a commit listener failed")
