"""Response bodies of the identity routes (their names are the OpenAPI component names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from scaicontrol_core.billing_profiles import is_billable
from scaicontrol_core.identity_records import (
    DirectorySource,
    EinvoiceFormat,
    InvoiceLanguage,
    PartnerConfiguration,
    TenantBillingProfile,
    UserStatus,
)
from scaicontrol_core.ports import UnitOfWork
from scaicontrol_core.records import OrgStatus, Partner, Tenant

from ._common import pick

__all__ = [
    "AuditEntryResponse",
    "BillingProfileResponse",
    "GroupMember",
    "GroupResponse",
    "PartnerConfigurationResponse",
    "PartnerDetailResponse",
    "TenantDetailResponse",
    "UserDetailResponse",
    "UserGroup",
    "UserResponse",
    "partner_detail",
    "profile_view",
    "tenant_detail",
]


@attrs.frozen(kw_only=True)
class BillingProfileResponse:
    """A tenant's billing profile (the buyer identity on its invoices)."""

    tenant_id: str
    company_name: str
    address_line1: str
    address_line2: str | None
    postal_code: str
    city: str
    state: str | None
    country_code: str
    """ISO 3166-1 alpha-2."""
    vat_number: str | None
    """Compact form, with the country prefix for EU numbers."""
    tax_exempt: bool
    contact_email: str | None
    phone: str | None
    is_business: bool
    peppol_id: str | None
    peppol_scheme: str | None
    leitweg_id: str | None
    preferred_einvoice_format: EinvoiceFormat | None
    preferred_language: InvoiceLanguage
    invoice_template_name: str | None
    email_template_name: str | None
    buyer_reference: str | None
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class TenantDetailResponse:
    """A tenant with its partner and billing profile."""

    tenant_id: str
    name: str
    email: str | None
    partner_id: str
    partner_name: str | None
    status: OrgStatus
    has_billing_profile: bool
    billing_profile: BillingProfileResponse | None
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class PartnerConfigurationResponse:
    """A partner's seller identity and defaults its tenants inherit."""

    legal_name: str | None
    address_line1: str | None
    address_line2: str | None
    postal_code: str | None
    city: str | None
    state: str | None
    seller_country_code: str | None
    vat_number: str | None
    iban: str | None
    bic: str | None
    bank_name: str | None
    contact_email: str | None
    invoice_template_name: str | None
    email_template_name: str | None
    logo_url: str | None
    billing_linked_at: datetime | None
    """When the partner first became billable (legal name and seller country set)."""
    updated_at: datetime


@attrs.frozen(kw_only=True)
class PartnerDetailResponse:
    """A partner with its configuration and tenant count."""

    partner_id: str
    name: str
    is_operator: bool
    status: OrgStatus
    billable: bool
    """True once both legal_name and seller_country_code are set."""
    configuration: PartnerConfigurationResponse | None
    tenant_count: int
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class UserResponse:
    """A user; ``roles`` are the roles granted here directly."""

    id: str
    tenant_id: str
    email: str
    display_name: str | None
    roles: list[str]
    status: UserStatus
    source: DirectorySource
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    synced_at: datetime | None


@attrs.frozen(kw_only=True)
class UserGroup:
    """A group a user belongs to."""

    id: str
    name: str
    role: str | None


@attrs.frozen(kw_only=True)
class UserDetailResponse:
    """A user with its groups and effective roles and permissions."""

    user: UserResponse
    groups: list[UserGroup]
    effective_roles: list[str]
    """Direct roles plus those inherited from active groups."""
    permissions: list[str]
    """Scopes the effective roles grant (every scope for super_admin)."""
    has_password: bool
    """Whether the user can log in with the local identity provider."""


@attrs.frozen(kw_only=True)
class GroupMember:
    """A member of a group."""

    user_id: str
    email: str | None
    display_name: str | None


@attrs.frozen(kw_only=True)
class GroupResponse:
    """A group; members inherit its role. ``members`` is listed on the detail only."""

    id: str
    tenant_id: str
    name: str
    description: str | None
    role: str | None
    status: UserStatus
    member_count: int
    members: list[GroupMember] | None
    synced_at: datetime | None


@attrs.frozen(kw_only=True)
class AuditEntryResponse:
    """One administrative change."""

    id: str
    occurred_at: datetime
    actor_id: str
    action: str
    resource_type: str
    resource_id: str
    tenant_id: str | None
    partner_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


def profile_view(profile: TenantBillingProfile | None) -> BillingProfileResponse | None:
    return None if profile is None else pick(BillingProfileResponse, profile)


def tenant_detail(uow: UnitOfWork, tenant: Tenant) -> TenantDetailResponse:
    """The detail view; the uow must be cross-tenant or confined to this tenant."""
    partner = uow.partners.get(tenant.partner_id)
    profile = uow.tenant_billing_profiles.get(tenant.id)
    return pick(
        TenantDetailResponse, tenant, tenant_id=tenant.id,
        partner_name=partner.name if partner else None,
        has_billing_profile=profile is not None, billing_profile=profile_view(profile),
    )


def partner_detail(uow: UnitOfWork, partner: Partner) -> PartnerDetailResponse:
    config: PartnerConfiguration | None = uow.partner_configurations.get(partner.id)
    return pick(
        PartnerDetailResponse, partner, partner_id=partner.id, billable=is_billable(config),
        configuration=None if config is None else pick(PartnerConfigurationResponse, config),
        tenant_count=uow.tenants.count({"partner_id": partner.id}),
    )
