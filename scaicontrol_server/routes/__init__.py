"""The route table: every endpoint the server has, in one tuple.

Each API tag gets its own module here exporting ``ENDPOINTS``; add it to the sum below.
The router, the OpenAPI document and the authorization tests all read :data:`ENDPOINTS`.
"""

from __future__ import annotations

from ..api import Endpoint
from . import (
    admin_audit,
    admin_catalog,
    admin_groups,
    admin_metering,
    admin_packs,
    admin_partners,
    admin_subscriptions,
    admin_tenants,
    admin_usage,
    admin_users,
    auth,
    billing_profile,
    catalog,
    lookups,
    metering,
    notifications,
    organization,
    service_packs,
    subscriptions,
    system,
    webhook_deliveries,
    webhooks,
)

__all__ = ["ENDPOINTS"]

ENDPOINTS: tuple[Endpoint, ...] = (
    *system.ENDPOINTS,
    *lookups.ENDPOINTS,
    # identity and organisations
    *auth.ENDPOINTS,
    *organization.ENDPOINTS,
    *admin_tenants.ENDPOINTS,
    *admin_partners.ENDPOINTS,
    *admin_users.ENDPOINTS,
    *admin_groups.ENDPOINTS,
    *billing_profile.ENDPOINTS,
    *admin_audit.ENDPOINTS,
    # catalog, subscriptions and service packs
    *catalog.ENDPOINTS,
    *subscriptions.ENDPOINTS,
    *service_packs.ENDPOINTS,
    *admin_catalog.ENDPOINTS,
    *admin_subscriptions.ENDPOINTS,
    *admin_packs.ENDPOINTS,
    # webhooks and notifications
    *webhooks.ENDPOINTS,
    *webhook_deliveries.ENDPOINTS,
    *notifications.ENDPOINTS,
    # usage metering
    *metering.ENDPOINTS,
    *admin_usage.ENDPOINTS,
    *admin_metering.ENDPOINTS,
)
