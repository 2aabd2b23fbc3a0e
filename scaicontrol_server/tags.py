"""The OpenAPI tags of the HTTP API, in the order the reference lists them.

The names are the contract's (api-and-identity §2). Operations without a tag are allowed:
the reference groups them as "Endpoints not yet tagged" (the health probes and the public
lookups live there).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["TAGS"]

TAGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "auth": "Login through the identity provider and the caller's own identity.",
        "organization": "The caller's organisation: partner and tenant details.",
        "catalog": "Browse services and their plans.",
        "subscriptions": "A tenant's own subscriptions to plans.",
        "service-packs": "A tenant's bundles of services sold together.",
        "provisioning": "Provisioning workflows and their callbacks.",
        "billing": "A tenant's billing profile, invoices and payments.",
        "service-billing": "Services reporting billable items to the platform.",
        "metering": "Usage events, quotas and usage summaries.",
        "notifications": "In-app notifications for the caller.",
        "registry": "Services registering themselves and sending heartbeats.",
        "entrypoints": "Where a tenant reaches the services it subscribes to.",
        "uploads": "File uploads and downloads.",
        "webhooks": "Inbound webhooks from payment providers.",
        "admin": "General operator administration.",
        "admin-tenants": "Operator and partner administration of tenants.",
        "admin-partners": "Operator administration of partners.",
        "admin-users": "User administration.",
        "admin-groups": "Groups and the roles they grant.",
        "admin-subscriptions": "Subscription lifecycle operations across tenants.",
        "admin-packs": "Service pack administration.",
        "admin-billing": "Invoices, credit notes, templates and payments across tenants.",
        "admin-accounting": "Accounting integrations and exports.",
        "admin-provisioning": "Control of provisioning workflows.",
        "admin-platform": "Platform-wide settings.",
        "admin-usage": "Usage and metering across tenants.",
        "admin-lookups": "Reference lists for administration screens.",
        "admin-entrypoints": "Administration of service entrypoints.",
        "admin-webhook-subscriptions": "Subscribers to outbound webhook events.",
    }
)
