"""Which subscriptions receive which topics: anchored, case-sensitive wildcard patterns.

A pattern is matched against the *whole* unversioned ``event_type``:

- ``*`` matches any run of characters, including none and including dots;
- ``?`` matches exactly one character;
- every other character matches itself.

So ``subscription.*`` matches ``subscription.activated`` but not
``pack_subscription.activated`` (the match is anchored at the start), ``*`` matches every
topic, and an exact name matches only itself. Character classes (``[...]``), ranges and
escapes are not supported: patterns containing anything but lower-case letters, digits,
``_``, ``.``, ``*`` and ``?`` are invalid and match nothing. A trailing ``.v1`` (the
catalog's major version) is ignored, so ``subscription.activated.v1`` means
``subscription.activated``; a pattern naming another major version matches nothing.

The matcher is a linear-time two-pointer scan rather than a translated regular expression,
so no pattern can cause catastrophic backtracking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from ..errors import ValidationError
from ..events import Topic

__all__ = [
    "matches_any",
    "matching_topics",
    "normalize_topic_pattern",
    "topic_matches",
    "validate_topic_patterns",
]

_MAX_PATTERN_LENGTH: Final = 128
_ALLOWED = re.compile(r"[a-z0-9_.*?]+", re.ASCII)
_VERSION_SUFFIX = re.compile(r"\.v([0-9]+)$", re.ASCII)
_SUPPORTED_MAJORS: Final = frozenset(topic.major_version for topic in Topic)


def normalize_topic_pattern(pattern: str) -> str:
    """The canonical form of a pattern (version suffix removed); ``ValidationError`` if invalid."""
    if not isinstance(pattern, str) or not pattern:
        raise ValidationError("a topic pattern must be a non-empty string", field="topics")
    if len(pattern) > _MAX_PATTERN_LENGTH or not _ALLOWED.fullmatch(pattern):
        raise ValidationError(
            f"topic pattern {pattern!r} may use only a-z, 0-9, '_', '.', '*' and '?'",
            field="topics",
        )
    suffix = _VERSION_SUFFIX.search(pattern)
    if suffix is not None:
        if int(suffix.group(1)) not in _SUPPORTED_MAJORS:
            raise ValidationError(
                f"topic pattern {pattern!r} names a version no topic has", field="topics"
            )
        pattern = pattern[: suffix.start()]
        if not pattern:  # pragma: no cover - the regex needs a dot before 'v'
            raise ValidationError("a topic pattern must name topics", field="topics")
    return pattern


def _wildcard_match(pattern: str, text: str) -> bool:
    p = t = 0
    star = -1  # index in pattern of the last '*' seen
    resume = 0  # index in text where that '*' currently stops matching
    while t < len(text):
        if p < len(pattern) and pattern[p] in ("?", text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star, resume = p, t
            p += 1
        elif star >= 0:
            resume += 1
            p, t = star + 1, resume
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def topic_matches(pattern: str, event_type: str) -> bool:
    """Whether ``pattern`` selects ``event_type`` (an unversioned topic name).

    An invalid pattern matches nothing, so a bad stored pattern can never widen a fan-out.
    """
    try:
        normalized = normalize_topic_pattern(pattern)
    except ValidationError:
        return False
    return isinstance(event_type, str) and _wildcard_match(normalized, event_type)


def matches_any(patterns: Iterable[str], event_type: str) -> bool:
    """Whether any of a subscription's patterns selects ``event_type``."""
    return any(topic_matches(pattern, event_type) for pattern in patterns)


def matching_topics(pattern: str) -> tuple[Topic, ...]:
    """The catalog topics ``pattern`` selects, in catalog order."""
    return tuple(topic for topic in Topic if topic_matches(pattern, topic.value))


def validate_topic_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """Check a subscription's pattern list at registration and return it normalised.

    The list must be non-empty, every pattern valid, and every pattern must select at least
    one topic of the catalog (a pattern that can never match is almost certainly a typo).
    Duplicates are removed, first occurrence kept.
    """
    if isinstance(patterns, str):
        raise ValidationError("topics must be a list of patterns, not one string", field="topics")
    result: list[str] = []
    for pattern in patterns:
        normalized = normalize_topic_pattern(pattern)
        if not matching_topics(normalized):
            raise ValidationError(
                f"topic pattern {pattern!r} matches no known topic", field="topics"
            )
        if normalized not in result:
            result.append(normalized)
    if not result:
        raise ValidationError("at least one topic pattern is required", field="topics")
    return tuple(result)
