"""Identity: users, groups, roles, billing profiles, partner configuration, audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

__all__: list[str] = []

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from the table modules, so later changes there cannot
# change what this revision creates.
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
EMAIL = 320


def _id(name: str = "id", nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _text(name: str, length: int, nullable: bool = True) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    kind = sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    return sa.Column(name, kind, nullable=nullable)


def _version() -> sa.Column[int]:
    return sa.Column("version", sa.Integer(), nullable=False)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _directory(table: str, *columns: sa.Column[Any]) -> None:
    """Users and groups share their lifecycle columns."""
    op.create_table(
        table,
        _id(),
        _id("tenant_id"),
        *columns,
        _text("status", 16, nullable=False),
        _text("source", 16, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("deleted_at", nullable=True),
        _at("synced_at", nullable=True),
        _version(),
        _pk(table),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f(f"ix_{table}_tenant_id"), table, ["tenant_id"])


def upgrade() -> None:
    _directory(
        "users",
        _text("email", EMAIL, nullable=False),
        _text("display_name", 255),
        sa.Column("roles", sa.JSON(), nullable=False),
    )
    op.create_index(op.f("ix_users_email"), "users", ["email"])
    op.create_table(
        "credentials",
        _text("id", EMAIL, nullable=False),
        _id("user_id"),
        _text("password_hash", 255, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _version(),
        _pk("credentials"),
        sa.UniqueConstraint("user_id", name=op.f("uq_credentials_user_id")),
        **TABLE_OPTIONS,
    )
    _directory(
        "groups",
        _text("name", 255, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _text("role", 32),
    )
    op.create_table(
        "group_memberships",
        _text("id", 73, nullable=False),
        _id("group_id"),
        _id("user_id"),
        _at("created_at"),
        _version(),
        _pk("group_memberships"),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_group_memberships_group_id"), "group_memberships", ["group_id"])
    op.create_index(op.f("ix_group_memberships_user_id"), "group_memberships", ["user_id"])
    op.create_table(
        "refresh_tokens",
        _id(),
        _id("family_id"),
        _id("user_id"),
        _text("secret_hash", 64, nullable=False),
        _at("issued_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        _at("revoked_at", nullable=True),
        _version(),
        _pk("refresh_tokens"),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_refresh_tokens_family_id"), "refresh_tokens", ["family_id"])
    op.create_index(op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"])
    op.create_table(
        "signing_keys",
        _text("id", 64, nullable=False),
        _text("algorithm", 16, nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        _at("created_at"),
        _at("retired_at", nullable=True),
        _version(),
        _pk("signing_keys"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "tenant_billing_profiles",
        _id(),
        _id("tenant_id"),
        _text("company_name", 255, nullable=False),
        _text("address_line1", 255, nullable=False),
        _text("address_line2", 255),
        _text("postal_code", 32, nullable=False),
        _text("city", 128, nullable=False),
        _text("state", 128),
        _text("country_code", 2, nullable=False),
        _text("vat_number", 32),
        sa.Column("tax_exempt", sa.Boolean(), nullable=False),
        _text("contact_email", EMAIL),
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
        _pk("tenant_billing_profiles"),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_tenant_billing_profiles_tenant_id")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "partner_configurations",
        _id(),
        _id("partner_id"),
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
        _text("contact_email", EMAIL),
        _text("invoice_template_name", 128),
        _text("email_template_name", 128),
        _text("logo_url", 2048),
        _at("billing_linked_at", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _version(),
        _pk("partner_configurations"),
        sa.UniqueConstraint("partner_id", name=op.f("uq_partner_configurations_partner_id")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "audit_log",
        _id(),
        _at("occurred_at"),
        _text("actor_id", 255, nullable=False),
        _text("action", 64, nullable=False),
        _text("resource_type", 32, nullable=False),
        _text("resource_id", 255, nullable=False),
        _id("tenant_id", nullable=True),
        _id("partner_id", nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        _text("request_id", 128),
        _version(),
        _pk("audit_log"),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_audit_log_tenant_id"), "audit_log", ["tenant_id"])
    op.create_index(op.f("ix_audit_log_partner_id"), "audit_log", ["partner_id"])
    op.create_index(op.f("ix_audit_log_occurred_at"), "audit_log", ["occurred_at"])
    op.create_index(
        op.f("ix_audit_log_resource_type_resource_id"), "audit_log",
        ["resource_type", "resource_id"],
    )


def downgrade() -> None:
    for table in (
        "audit_log", "partner_configurations", "tenant_billing_profiles", "signing_keys",
        "refresh_tokens", "group_memberships", "groups", "credentials", "users",
    ):
        op.drop_table(table)  # dropping a table drops its indexes too
