"""The route table: every endpoint the server has, in one tuple.

Each API tag gets its own module here exporting ``ENDPOINTS``; add it to the sum below.
The router, the OpenAPI document and the authorization tests all read :data:`ENDPOINTS`.
"""

from __future__ import annotations

from ..api import Endpoint
from . import lookups, system

__all__ = ["ENDPOINTS"]

ENDPOINTS: tuple[Endpoint, ...] = (
    *system.ENDPOINTS,
    *lookups.ENDPOINTS,
)
