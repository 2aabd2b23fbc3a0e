"""The fast path of ``POST /metering/events``: a usage batch checked by hand, not by cattrs.

Structuring 1000 events through the generic converter (shape pass, cattrs, attrs validators)
costs far more than storing them. :func:`parse_usage_batch` accepts exactly the bodies the
generic path accepts and builds the core reports directly; at the first thing it is not
sure about it returns None, and the generic path runs instead, so an invalid batch gets
exactly the generic 422 (every problem, by index and field). A table test and a property
test keep the two paths in agreement.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from scaicontrol_core.metering.ingest import UsageReport
from scaicontrol_core.metering.model import MAX_QUANTITY

__all__ = [
    "KEY_MAX",
    "MAX_BATCH",
    "SLUG",
    "TENANT_ID_MAX",
    "ReportBatch",
    "parse_usage_batch",
]

#: Events per batch, at most.
MAX_BATCH: Final = 1000
#: Service and metric slugs (``re.search`` semantics, as the field validators use).
SLUG: Final = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
TENANT_ID_MAX: Final = 36
KEY_MAX: Final = 255
_SLUG = re.compile(SLUG)
_REQUIRED: Final = ("tenant_id", "metric_slug", "quantity", "occurred_at", "idempotency_key")


@attrs.frozen
class ReportBatch:
    """A batch that passed the fast checks, as core reports (what the handler needs)."""

    reports: tuple[UsageReport, ...]


def _text(value: Any, longest: int) -> bool:
    return type(value) is str and 1 <= len(value) <= longest


def parse_usage_batch(data: Any) -> ReportBatch | None:
    """The batch of the decoded JSON ``data``, or None to leave it to the generic path."""
    if type(data) is not dict:
        return None
    events = data.get("events")
    if type(events) is not list or not 1 <= len(events) <= MAX_BATCH:
        return None
    slugs: set[str] = set()  # slugs already found valid in this batch

    def is_slug(value: Any) -> bool:
        if type(value) is not str:
            return False
        if value not in slugs:
            if _SLUG.search(value) is None:
                return False
            slugs.add(value)
        return True

    reports = []
    for item in events:
        if type(item) is not dict or any(name not in item for name in _REQUIRED):
            return None
        tenant_id, metric, quantity = item["tenant_id"], item["metric_slug"], item["quantity"]
        key, moment = item["idempotency_key"], item["occurred_at"]
        service = item.get("service_slug")
        properties = item.get("properties", {})
        if not (_text(tenant_id, TENANT_ID_MAX) and _text(key, KEY_MAX)
                and type(quantity) is int and 0 <= quantity <= MAX_QUANTITY
                and type(properties) is dict and type(moment) is str
                and is_slug(metric) and (service is None or is_slug(service))):
            return None
        try:
            occurred = datetime.fromisoformat(moment)
        except ValueError:
            return None
        if occurred.tzinfo is None or occurred.utcoffset() is None:
            return None
        reports.append(UsageReport(
            tenant_id=tenant_id, service_slug=service, metric_slug=metric, quantity=quantity,
            occurred_at=occurred.astimezone(UTC), idempotency_key=key, properties=properties))
    return ReportBatch(tuple(reports))
