"""Idempotency keys: ``<resource_type>:<resource_id>:<event>:<lifecycle_step>``.

The key names one logical event. It is derived only from domain values, so a retried
business transaction, a re-run worker or a re-fanned-out delivery all produce the same key.
The third segment is the event part of the topic (``activated``), as in the documented
example ``subscription:sub_abc:activated:initial``. The first three segments never contain
a colon; the lifecycle step may (``plan_change:20260601T000000Z``), so a key is split with
``maxsplit=3``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

import attrs

from ..clock import ensure_utc
from ..errors import ValidationError

__all__ = ["INITIAL", "TERMINAL", "IdempotencyKey", "idempotency_key", "stamp"]

#: Lifecycle step of an event that can happen once in a resource's life, at its start.
INITIAL: Final = "initial"
#: Lifecycle step of an event that can happen once in a resource's life, at its end.
TERMINAL: Final = "terminal"

_SEGMENT = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_STEP = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


def stamp(moment: datetime) -> str:
    """A colon-free UTC instant for lifecycle steps: ISO 8601 basic form, ``20260601T000000Z``.

    Microseconds are kept (``20260601T000000.250000Z``) only when they are not zero, so two
    distinct instants never share a stamp.
    """
    utc = ensure_utc(moment)
    text = utc.strftime("%Y%m%dT%H%M%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


@attrs.frozen(kw_only=True)
class IdempotencyKey:
    """The four parts of a key; ``str(key)`` is the wire form."""

    resource_type: str
    resource_id: str
    event: str
    lifecycle_step: str

    def __attrs_post_init__(self) -> None:
        for name in ("resource_type", "resource_id", "event"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _SEGMENT.fullmatch(value):
                raise ValidationError(
                    f"idempotency key {name} {value!r} must be 1-64 characters of "
                    "letters, digits, '_', '.', '-'",
                    field=name,
                )
        step = self.lifecycle_step
        if not isinstance(step, str) or not _STEP.fullmatch(step):
            raise ValidationError(
                f"lifecycle step {step!r} must be 1-128 characters of letters, digits, "
                "'_', '.', ':', '-'",
                field="lifecycle_step",
            )

    def __str__(self) -> str:
        return f"{self.resource_type}:{self.resource_id}:{self.event}:{self.lifecycle_step}"

    @classmethod
    def parse(cls, text: str) -> IdempotencyKey:
        """The reverse of ``str()``; raises ``ValidationError`` on a malformed key."""
        parts = text.split(":", 3)
        if len(parts) != 4:
            raise ValidationError(f"{text!r} is not '<type>:<id>:<event>:<step>'")
        return cls(
            resource_type=parts[0], resource_id=parts[1], event=parts[2], lifecycle_step=parts[3]
        )


def idempotency_key(resource_type: str, resource_id: str, event: str, lifecycle_step: str) -> str:
    """Build and validate the wire form of an idempotency key."""
    return str(
        IdempotencyKey(
            resource_type=resource_type,
            resource_id=resource_id,
            event=event,
            lifecycle_step=lifecycle_step,
        )
    )
