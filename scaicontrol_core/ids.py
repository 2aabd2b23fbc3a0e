"""Identifier factories.

Organisation ids carry the documented prefixes (``prt_``, ``tnt_``, ``usr_``, ``grp_``) and
fit the 36-character id columns; rows native to scaicontrol use UUID strings. The core never
reaches for randomness itself: an :class:`IdFactory` is handed in, so tests can make ids
deterministic with :class:`SequentialIds`.
"""

from __future__ import annotations

import enum
import secrets
from typing import Protocol
from uuid import UUID

__all__ = [
    "IdFactory",
    "IdPrefix",
    "RandomIds",
    "SequentialIds",
    "has_prefix",
    "is_uuid",
]

ID_LENGTH = 36


class IdPrefix(enum.StrEnum):
    PARTNER = "prt_"
    TENANT = "tnt_"
    USER = "usr_"
    GROUP = "grp_"
    APPLICATION = "app_"
    REQUEST = "req_"


class IdFactory(Protocol):
    """Source of new identifiers."""

    def prefixed(self, prefix: IdPrefix) -> str:
        """A new id such as ``tnt_9f1c...``, 36 characters long."""
        ...

    def uuid(self) -> str:
        """A new UUIDv4 string (36 characters)."""
        ...


def _uuid4_from(raw: bytes) -> UUID:
    return UUID(bytes=raw, version=4)


class RandomIds:
    """Ids from the operating system's secure random source."""

    def prefixed(self, prefix: IdPrefix) -> str:
        return prefix.value + secrets.token_hex((ID_LENGTH - len(prefix.value)) // 2)

    def uuid(self) -> str:
        return str(_uuid4_from(secrets.token_bytes(16)))


class SequentialIds:
    """Predictable ids for tests and demo data: ``tnt_000...01``, then ``..02``."""

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def _take(self) -> int:
        value = self._next
        self._next += 1
        return value

    def prefixed(self, prefix: IdPrefix) -> str:
        return prefix.value + format(self._take(), "x").zfill(ID_LENGTH - len(prefix.value))

    def uuid(self) -> str:
        return str(_uuid4_from(self._take().to_bytes(16, "big")))


def has_prefix(value: str, prefix: IdPrefix) -> bool:
    """Whether ``value`` looks like an id of the given kind."""
    return value.startswith(prefix.value) and 4 < len(value) <= ID_LENGTH


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a canonical 36-character UUID string."""
    try:
        return str(UUID(value)) == value.lower() and len(value) == ID_LENGTH
    except ValueError:
        return False
