"""Usage metering: ingestion, rollups, quotas, usage queries and rating.

See ``docs/metering.md``. Storage goes through ``uow.metering``
(:class:`~scaicontrol_core.metering.store.MeteringStore`) and the ``metric_definitions``
and ``service_api_keys`` repositories.
"""

from __future__ import annotations

from .model import (
    MAX_QUANTITY,
    Aggregation,
    MetricDefinition,
    PeriodType,
    Rollup,
    RollupKey,
    ServiceApiKey,
    UsageEvent,
)
from .store import MeteringStore

__all__ = [
    "MAX_QUANTITY",
    "Aggregation",
    "MeteringStore",
    "MetricDefinition",
    "PeriodType",
    "Rollup",
    "RollupKey",
    "ServiceApiKey",
    "UsageEvent",
]
