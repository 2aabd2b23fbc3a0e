"""Typed keys for what the application and each request carry.

Everything is put in place by :func:`scaicontrol_server.app.build_app`, except
:data:`STORAGE`, which the storage cleanup context sets at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import cattrs
from aiohttp import web

from scaicontrol_core.clock import Clock
from scaicontrol_core.ids import IdFactory
from scaicontrol_core.plugins import Plugins
from scaicontrol_core.ports import Storage

from .settings import Settings

if TYPE_CHECKING:
    from .api import Authorizer, Endpoint

__all__ = [
    "AUTHORIZER",
    "CLOCK",
    "CONVERTER",
    "ENDPOINTS",
    "IDS",
    "MAX_BODY_SIZE",
    "OPENAPI",
    "PLUGINS",
    "REQUEST_ID",
    "SETTINGS",
    "STORAGE",
]

SETTINGS: Final = web.AppKey("settings", Settings)
PLUGINS: Final = web.AppKey("plugins", Plugins)
STORAGE: Final[web.AppKey[Storage]] = web.AppKey("storage")
CONVERTER: Final = web.AppKey("converter", cattrs.Converter)
CLOCK: Final[web.AppKey[Clock]] = web.AppKey("clock")
IDS: Final[web.AppKey[IdFactory]] = web.AppKey("ids")
#: The endpoint table the router was built from (the OpenAPI document reads it too).
ENDPOINTS: Final[web.AppKey[tuple[Endpoint, ...]]] = web.AppKey("endpoints")
#: Who checks credentials for non-public endpoints; None until authentication exists.
AUTHORIZER: Final[web.AppKey[Authorizer | None]] = web.AppKey("authorizer")
#: The OpenAPI document, generated once when the application is built.
OPENAPI: Final[web.AppKey[dict[str, Any]]] = web.AppKey("openapi")
#: Largest request body accepted, in bytes.
MAX_BODY_SIZE: Final = web.AppKey("max_body_size", int)

#: The ``req_...`` id of the request being handled.
REQUEST_ID: Final = web.RequestKey("request_id", str)
