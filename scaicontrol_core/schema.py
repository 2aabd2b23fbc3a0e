"""The record kinds storage must hold, with their tenant scoping.

Adapters build one repository per entry; adding a record kind means adding it here, to the
:class:`~scaicontrol_core.ports.UnitOfWork` protocol, and to each adapter's schema.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from .catalog_records import PackSubscription, Plan, Service, ServicePack, Subscription
from .identity_records import (
    AuditEntry,
    Credential,
    Group,
    GroupMembership,
    PartnerConfiguration,
    RefreshToken,
    SigningKey,
    TenantBillingProfile,
    User,
)
from .metering.model import MetricDefinition, ServiceApiKey
from .notifications.model import Notification, NotificationRead
from .records import Partner, Tenant
from .webhooks.model import DeliveryAttempt, WebhookDelivery, WebhookSubscription

__all__ = ["RECORD_KINDS", "RecordKind", "record_kind"]


@attrs.frozen(kw_only=True)
class RecordKind:
    """``name`` is the unit-of-work attribute and table name; ``label`` names it in errors."""

    name: str
    label: str
    record_type: type[Any]
    tenant_scoped: bool = False


RECORD_KINDS: Final[tuple[RecordKind, ...]] = (
    RecordKind(name="partners", label="Partner", record_type=Partner),
    RecordKind(name="tenants", label="Tenant", record_type=Tenant),
    # identity
    RecordKind(name="users", label="User", record_type=User),
    RecordKind(name="credentials", label="Credential", record_type=Credential),
    RecordKind(name="groups", label="Group", record_type=Group),
    RecordKind(name="group_memberships", label="Group membership", record_type=GroupMembership),
    RecordKind(name="refresh_tokens", label="Refresh token", record_type=RefreshToken),
    RecordKind(name="signing_keys", label="Signing key", record_type=SigningKey),
    RecordKind(
        name="tenant_billing_profiles", label="Billing profile",
        record_type=TenantBillingProfile, tenant_scoped=True,
    ),
    RecordKind(
        name="partner_configurations", label="Partner configuration",
        record_type=PartnerConfiguration,
    ),
    RecordKind(name="audit_log", label="Audit entry", record_type=AuditEntry),
    # webhooks and notifications
    RecordKind(
        name="webhook_subscriptions", label="Webhook subscription",
        record_type=WebhookSubscription,
    ),
    RecordKind(name="webhook_deliveries", label="Webhook delivery", record_type=WebhookDelivery),
    RecordKind(name="webhook_attempts", label="Delivery attempt", record_type=DeliveryAttempt),
    RecordKind(
        name="notifications", label="Notification", record_type=Notification,
        tenant_scoped=True,
    ),
    RecordKind(
        name="notification_reads", label="Notification receipt", record_type=NotificationRead,
        tenant_scoped=True,
    ),
    # catalog, subscriptions and service packs
    RecordKind(name="services", label="Service", record_type=Service),
    RecordKind(name="plans", label="Plan", record_type=Plan),
    RecordKind(name="service_packs", label="Service pack", record_type=ServicePack),
    RecordKind(
        name="subscriptions", label="Subscription", record_type=Subscription,
        tenant_scoped=True,
    ),
    RecordKind(
        name="pack_subscriptions", label="Pack subscription", record_type=PackSubscription,
        tenant_scoped=True,
    ),
    # metering (usage events and rollups live behind ``uow.metering``, not here)
    RecordKind(
        name="metric_definitions", label="Metric", record_type=MetricDefinition,
    ),
    RecordKind(name="service_api_keys", label="Service API key", record_type=ServiceApiKey),
)


def record_kind(name: str) -> RecordKind:
    """Look a record kind up by its attribute name."""
    for kind in RECORD_KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)
