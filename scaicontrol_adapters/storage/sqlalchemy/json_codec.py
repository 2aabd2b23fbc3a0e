"""Reading stored JSON: orjson where its result is exactly the standard library's.

Every row with a JSON column is decoded on read (an outbox claim decodes each event's
envelope), and orjson does it about three times faster than ``json.loads``. The two agree
on every valid JSON text except integers beyond 64 bits, which orjson turns into floats,
so a text with a run of 19 or more digits goes to ``json``; so does any text orjson
refuses (``NaN``, lone surrogates, numbers beyond the float range), where ``json``
decides.
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

__all__ = ["load_json"]

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
