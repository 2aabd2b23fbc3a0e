"""Stored JSON, read and written by orjson where that means exactly what the standard
library would.

Every row with a JSON column is decoded on read (an outbox claim decodes each event's
envelope), and orjson does it about three times faster than ``json.loads``. The two agree
on every valid JSON text except integers beyond 64 bits, which orjson turns into floats,
so a text with a run of 19 or more digits goes to ``json``; so does any text orjson
refuses (``NaN``, lone surrogates, numbers beyond the float range), where ``json``
decides.

Values bound to JSON columns are written by orjson when they are plain (see
:mod:`scaicontrol_core.plain_json`): the text is more compact than ``json.dumps``'s (no
spaces, UTF-8 rather than ``\\u`` escapes) and reads back as the same value. Anything
else (floats, whose ``NaN`` orjson would turn into ``null``; keys that are not strings;
integers beyond 64 bits) is written by ``json.dumps``, as before.
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

from scaicontrol_core.plain_json import is_plain

__all__ = ["dump_json", "load_json"]

#: Every digit becomes "0" and every other byte a space, so that a long run of digits is
#: found by a plain substring search (a regular expression costs more than the decoding).
_DIGITS_AS_ZEROS: Final = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_RUN: Final = b"0" * 19


def load_json(text: str | bytes) -> Any:
    """``json.loads(text)``, computed by orjson when that gives the same value."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if _LONG_RUN not in raw.translate(_DIGITS_AS_ZEROS):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text if isinstance(text, str) else raw)


def dump_json(value: Any) -> str:
    """The text stored for ``value``: by orjson for a plain document, else ``json.dumps``."""
    if is_plain(value):
        try:
            return orjson.dumps(value).decode()
        except orjson.JSONEncodeError:
            pass  # a key that is not a string, an integer beyond 64 bits, a lone surrogate
    return json.dumps(value)
