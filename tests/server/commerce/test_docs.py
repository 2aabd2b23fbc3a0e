"""docs/subscriptions.md lists every catalog, subscription and pack endpoint."""

from __future__ import annotations

from pathlib import Path

from scaicontrol_server.routes import (
    admin_catalog,
    admin_packs,
    admin_subscriptions,
    catalog,
    service_packs,
    subscriptions,
)

DOC = (Path(__file__).resolve().parents[3] / "docs" / "subscriptions.md").read_text()
MODULES = (catalog, subscriptions, service_packs, admin_catalog, admin_subscriptions,
           admin_packs)


def test_every_endpoint_is_documented() -> None:
    """Each endpoint's path appears on the page, and the counts match the contract."""
    for module in MODULES:
        for endpoint in module.ENDPOINTS:
            assert endpoint.path in DOC, f"{endpoint.method} {endpoint.path}"
    counts = [len(m.ENDPOINTS) for m in MODULES]
    assert counts == [4, 6, 5, 7, 8, 5]
