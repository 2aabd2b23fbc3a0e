"""Authorization-matrix cases of the metering, admin-usage and metering admin endpoints.

Usage ingestion and the quota check need ``registry:manage`` (only the super admin here);
usage is reported for the demo tenant Acme at the matrix clock's hour. The admin tenant
usage case reads Globex, a Northwind tenant, so the partner admin reaches it too.
"""

from __future__ import annotations

from typing import Any

from .authz import Case
from .conftest import START

__all__ = ["CASES"]

UNKNOWN = "00000000-0000-4000-8000-00000000dead"


def _usage(role: str) -> dict[str, Any]:
    return {"events": [{
        "tenant_id": "tnt_demo_acme", "service_slug": "scaikey", "metric_slug": "logins",
        "quantity": 1, "occurred_at": START.isoformat(), "idempotency_key": f"matrix-{role}",
    }]}


CASES: dict[tuple[str, str], Case] = {
    ("POST", "/api/v1/metering/events"): Case(body=_usage),
    ("GET", "/api/v1/internal/quotas/{tenant_id}/{service_slug}/{metric_slug}"): Case(
        path={"tenant_id": "tnt_demo_acme", "service_slug": "scaikey",
              "metric_slug": "monthly_active_users"}),
    ("GET", "/api/v1/usage/by-service/{slug}"): Case(path={"slug": "scaikey"}),
    ("GET", "/api/v1/admin/usage/tenant/{tenant_id}"): Case(
        path={"tenant_id": "tnt_demo_globex"}),
    ("POST", "/api/v1/admin/metering/metrics"): Case(body={
        "service_slug": "scaivault", "slug": "matrix_reads", "name": "Reads", "unit": "read",
        "aggregation": "sum"}),
    ("POST", "/api/v1/admin/service-keys"): Case(body={"service_slug": "scaikey",
                                                       "name": "matrix"}),
    ("DELETE", "/api/v1/admin/service-keys/{key_id}"): Case(
        path={"key_id": UNKNOWN}, expect={"super_admin": 404}),
}
