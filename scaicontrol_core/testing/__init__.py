"""Shipped test support for adapter authors: contract suites and small fakes.

Importing this package does not import pytest; the contract modules do.
"""

from __future__ import annotations

from ..clock import ManualClock
from ..ids import SequentialIds

__all__ = ["ManualClock", "SequentialIds"]
