"""Tables of the identity capability: users, groups, logins, tokens, signing keys, the
tenant and partner billing identities and the audit log (migration 0002)."""

from __future__ import annotations

import sqlalchemy as sa

from ._meta import ID_LENGTH, TABLE_OPTIONS, metadata
from .types import UtcDateTime

__all__ = [
    "audit_log",
    "credentials",
    "group_memberships",
    "groups",
    "partner_configurations",
    "refresh_tokens",
    "signing_keys",
    "tenant_billing_profiles",
    "users",
]

EMAIL_LENGTH = 320


def _id(name: str = "id", **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(ID_LENGTH), **kwargs)  # type: ignore[arg-type]


def _text(name: str, length: int, nullable: bool = True) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


def _version() -> sa.Column[int]:
    return sa.Column("version", sa.Integer(), nullable=False)


users = sa.Table(
    "users",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", nullable=False, index=True),
    _text("email", EMAIL_LENGTH, nullable=False),
    _text("display_name", 255),
    sa.Column("roles", sa.JSON(), nullable=False),
    _text("status", 16, nullable=False),
    _text("source", 16, nullable=False),
    _at("created_at"),
    _at("updated_at"),
    _at("deleted_at", nullable=True),
    _at("synced_at", nullable=True),
    _version(),
    sa.Index(None, "email"),
    **TABLE_OPTIONS,
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("id", sa.String(EMAIL_LENGTH), primary_key=True),
    _id("user_id", nullable=False, unique=True),
    _text("password_hash", 255, nullable=False),
    _at("created_at"),
    _at("updated_at"),
    _version(),
    **TABLE_OPTIONS,
)

groups = sa.Table(
    "groups",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", nullable=False, index=True),
    _text("name", 255, nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    _text("role", 32),
    _text("status", 16, nullable=False),
    _text("source", 16, nullable=False),
    _at("created_at"),
    _at("updated_at"),
    _at("deleted_at", nullable=True),
    _at("synced_at", nullable=True),
    _version(),
    **TABLE_OPTIONS,
)

group_memberships = sa.Table(
    "group_memberships",
    metadata,
    sa.Column("id", sa.String(2 * ID_LENGTH + 1), primary_key=True),
    _id("group_id", nullable=False, index=True),
    _id("user_id", nullable=False, index=True),
    _at("created_at"),
    _version(),
    **TABLE_OPTIONS,
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    _id(primary_key=True),
    _id("family_id", nullable=False, index=True),
    _id("user_id", nullable=False, index=True),
    _text("secret_hash", 64, nullable=False),
    _at("issued_at"),
    _at("expires_at"),
    _at("used_at", nullable=True),
    _at("revoked_at", nullable=True),
    _version(),
    **TABLE_OPTIONS,
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    _text("algorithm", 16, nullable=False),
    sa.Column("private_key", sa.Text(), nullable=False),
    sa.Column("public_jwk", sa.JSON(), nullable=False),
    _at("created_at"),
    _at("retired_at", nullable=True),
    _version(),
    **TABLE_OPTIONS,
)

tenant_billing_profiles = sa.Table(
    "tenant_billing_profiles",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", nullable=False, unique=True),
    _text("company_name", 255, nullable=False),
    _text("address_line1", 255, nullable=False),
    _text("address_line2", 255),
    _text("postal_code", 32, nullable=False),
    _text("city", 128, nullable=False),
    _text("state", 128),
    _text("country_code", 2, nullable=False),
    _text("vat_number", 32),
    sa.Column("tax_exempt", sa.Boolean(), nullable=False),
    _text("contact_email", EMAIL_LENGTH),
    _text("phone", 64),
    sa.Column("is_business", sa.Boolean(), nullable=False),
    _text("peppol_id", 128),
    _text("peppol_scheme", 16),
    _text("leitweg_id", 64),
    _text("preferred_einvoice_format", 16),
    _text("preferred_language", 8, nullable=False),
    _text("invoice_template_name", 128),
    _text("email_template_name", 128),
    _text("buyer_reference", 255),
    _at("created_at"),
    _at("updated_at"),
    _version(),
    **TABLE_OPTIONS,
)

partner_configurations = sa.Table(
    "partner_configurations",
    metadata,
    _id(primary_key=True),
    _id("partner_id", nullable=False, unique=True),
    _text("legal_name", 255),
    _text("address_line1", 255),
    _text("address_line2", 255),
    _text("postal_code", 32),
    _text("city", 128),
    _text("state", 128),
    _text("seller_country_code", 2),
    _text("vat_number", 32),
    _text("iban", 34),
    _text("bic", 11),
    _text("bank_name", 255),
    _text("contact_email", EMAIL_LENGTH),
    _text("invoice_template_name", 128),
    _text("email_template_name", 128),
    _text("logo_url", 2048),
    _at("billing_linked_at", nullable=True),
    _at("created_at"),
    _at("updated_at"),
    _version(),
    **TABLE_OPTIONS,
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(primary_key=True),
    _at("occurred_at"),
    _text("actor_id", 255, nullable=False),
    _text("action", 64, nullable=False),
    _text("resource_type", 32, nullable=False),
    _text("resource_id", 255, nullable=False),
    _id("tenant_id", nullable=True, index=True),
    _id("partner_id", nullable=True, index=True),
    sa.Column("before", sa.JSON(), nullable=True),
    sa.Column("after", sa.JSON(), nullable=True),
    _text("request_id", 128),
    _version(),
    sa.Index(None, "occurred_at"),
    sa.Index(None, "resource_type", "resource_id"),
    **TABLE_OPTIONS,
)
