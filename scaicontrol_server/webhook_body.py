"""Delivery bodies: the core's canonical JSON, computed by orjson where it is the same.

Every delivery renders its stored envelope to the canonical bytes it signs and sends
(:func:`~scaicontrol_core.events.canonical_json`). orjson renders a plain document (objects
with string keys, arrays, strings, integers, booleans and null, which is what an envelope
is) to exactly the same bytes several times faster: sorted keys, compact separators,
UTF-8 text and the same escapes. Anything else, such as a float (orjson writes NaN as
``null`` and exponents in another form), a tuple or an enum, goes to ``canonical_json``,
and so does whatever orjson refuses (a key that is not a string, an integer beyond
64 bits, a lone surrogate).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from scaicontrol_core.events import canonical_json
from scaicontrol_core.plain_json import is_plain

__all__ = ["render_body"]

_OPTIONS: Final = orjson.OPT_SORT_KEYS


def render_body(document: Mapping[str, Any]) -> bytes:
    """``canonical_json(document)``, by orjson when that gives the same bytes; raises
    ``ValidationError`` for what cannot be rendered, as ``canonical_json`` does."""
    if type(document) is dict and is_plain(document):
        try:
            return orjson.dumps(document, option=_OPTIONS)
        except orjson.JSONEncodeError:
            pass  # canonical_json decides: it may render the document or refuse it
    return canonical_json(document)
