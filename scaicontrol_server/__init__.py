"""The ScaiControl HTTP server (aiohttp).

``create_app(settings)`` builds the application; ``build_app`` does the same for a given
endpoint table. Importing this package loads nothing heavy: the names are resolved on use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import build_app, create_app

__all__ = ["build_app", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
