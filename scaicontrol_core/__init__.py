"""scaicontrol core: domain logic and state machines, free of I/O.

Import what you need from the submodules; the names below are the most used ones.
"""

from __future__ import annotations

from .clock import Clock, ManualClock, ensure_utc, isoformat
from .errors import (
    ConcurrencyConflict,
    Conflict,
    InvalidTransition,
    NotFound,
    ScaiControlError,
    ValidationError,
)
from .ids import IdFactory, IdPrefix, RandomIds, SequentialIds
from .machines import Machine
from .money import Money
from .serialization import make_converter

__version__ = "0.1.0"

__all__ = [
    "Clock",
    "ConcurrencyConflict",
    "Conflict",
    "IdFactory",
    "IdPrefix",
    "InvalidTransition",
    "Machine",
    "ManualClock",
    "Money",
    "NotFound",
    "RandomIds",
    "ScaiControlError",
    "SequentialIds",
    "ValidationError",
    "__version__",
    "ensure_utc",
    "isoformat",
    "make_converter",
]
