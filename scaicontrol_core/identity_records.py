"""Stored records of the identity capability: users, groups, credentials, tokens, keys,
billing identities and the audit log.

Kept apart from the operations that use them so :mod:`scaicontrol_core.ports` can import
the record types without an import cycle.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "AuditEntry",
    "Credential",
    "DirectorySource",
    "EinvoiceFormat",
    "Group",
    "GroupMembership",
    "InvoiceLanguage",
    "PartnerConfiguration",
    "RefreshToken",
    "SigningKey",
    "TenantBillingProfile",
    "User",
    "UserStatus",
]


class UserStatus(enum.StrEnum):
    """Users and groups are soft-deleted, so a directory sync can bring them back."""

    ACTIVE = "active"
    DELETED = "deleted"


class DirectorySource(enum.StrEnum):
    """Where a user or group came from; a directory sync only removes what it brought."""

    LOCAL = "local"
    DIRECTORY = "directory"


class EinvoiceFormat(enum.StrEnum):
    UBL = "ubl"
    XRECHNUNG = "xrechnung"
    CII = "cii"
    ZUGFERD = "zugferd"
    FACTURX = "facturx"


class InvoiceLanguage(enum.StrEnum):
    EN = "en"
    NL = "nl"
    DE = "de"
    FR = "fr"
    ES = "es"
    IT = "it"


@attrs.frozen(kw_only=True)
class User:
    """A person or service account; it belongs to exactly one tenant.

    ``roles`` are the roles held locally (granted here), sorted; roles from the identity
    provider's token and from groups are merged in when a request is authorized.
    """

    id: str
    tenant_id: str
    email: str
    display_name: str | None = None
    roles: tuple[str, ...] = ()
    status: UserStatus = UserStatus.ACTIVE
    source: DirectorySource = DirectorySource.LOCAL
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    synced_at: datetime | None = None
    version: int = 1


@attrs.frozen(kw_only=True)
class Credential:
    """A local login: ``id`` is the normalised e-mail address, so it is unique by key."""

    id: str
    user_id: str
    password_hash: str
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class Group:
    """A group of users of one tenant; members inherit its ``role``, if it has one."""

    id: str
    tenant_id: str
    name: str
    description: str | None = None
    role: str | None = None
    status: UserStatus = UserStatus.ACTIVE
    source: DirectorySource = DirectorySource.LOCAL
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    synced_at: datetime | None = None
    version: int = 1


@attrs.frozen(kw_only=True)
class GroupMembership:
    """``id`` is ``<group_id>:<user_id>``, so a membership exists at most once."""

    id: str
    group_id: str
    user_id: str
    created_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class RefreshToken:
    """One single-use refresh token; ``family_id`` links every rotation of one login.

    Only a SHA-256 hash of the secret part is stored.
    """

    id: str
    family_id: str
    user_id: str
    secret_hash: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    version: int = 1


@attrs.frozen(kw_only=True)
class SigningKey:
    """A key the local identity provider signs access tokens with; ``id`` is the ``kid``."""

    id: str
    algorithm: str
    private_key: str
    public_jwk: Mapping[str, Any]
    created_at: datetime
    retired_at: datetime | None = None
    version: int = 1


@attrs.frozen(kw_only=True)
class TenantBillingProfile:
    """The buyer identity of a tenant; ``id`` equals ``tenant_id`` (one per tenant)."""

    id: str
    tenant_id: str
    company_name: str
    address_line1: str
    address_line2: str | None = None
    postal_code: str
    city: str
    state: str | None = None
    country_code: str
    vat_number: str | None = None
    tax_exempt: bool = False
    contact_email: str | None = None
    phone: str | None = None
    is_business: bool = True
    peppol_id: str | None = None
    peppol_scheme: str | None = None
    leitweg_id: str | None = None
    preferred_einvoice_format: EinvoiceFormat | None = None
    preferred_language: InvoiceLanguage = InvoiceLanguage.EN
    invoice_template_name: str | None = None
    email_template_name: str | None = None
    buyer_reference: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class PartnerConfiguration:
    """The seller identity of a partner; ``id`` equals ``partner_id`` (one per partner).

    ``billing_linked_at`` is set the first time both ``legal_name`` and
    ``seller_country_code`` are present.
    """

    id: str
    partner_id: str
    legal_name: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state: str | None = None
    seller_country_code: str | None = None
    vat_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None
    contact_email: str | None = None
    invoice_template_name: str | None = None
    email_template_name: str | None = None
    logo_url: str | None = None
    billing_linked_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One administrative change: who, what, when, and the record before and after."""

    id: str
    occurred_at: datetime
    actor_id: str
    action: str
    resource_type: str
    resource_id: str
    tenant_id: str | None = None
    partner_id: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    request_id: str | None = None
    version: int = 1
