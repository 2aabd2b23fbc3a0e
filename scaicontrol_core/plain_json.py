"""Which documents are plain JSON: what fast encoders render exactly like ``json``.

A plain document holds only dicts, lists, str, int, bool and None, by exact type (no
subclasses, no floats, no tuples). For those, orjson's output means exactly what the
standard library's does; anything else is left to the slower, exact encoder.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["is_plain"]

_SCALARS: Final = frozenset({str, int, bool, type(None)})


def is_plain(document: Any) -> bool:
    """Whether ``document`` is a dict or list holding only dicts, lists, str, int, bool
    and None (exact types; dict keys are not checked: encoders refuse what they cannot
    take, and the caller falls back then)."""
    if type(document) is not dict and type(document) is not list:
        return False
    stack: list[Any] = [document]  # dicts and lists
    while stack:
        node = stack.pop()
        for value in node.values() if type(node) is dict else node:
            kind = type(value)
            if kind is dict or kind is list:
                stack.append(value)
            elif kind not in _SCALARS:
                return False
    return True
