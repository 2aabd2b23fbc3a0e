"""Payloads of the four billing-link topics (tenant and partner become, or stay, billable)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import attrs

from ..errors import ValidationError
from ._model import doc, to_tuple, utc
from .common import (
    COUNTRY_PATTERN,
    PARTNER_ID_PATTERN,
    TENANT_ID_PATTERN,
    EventPayload,
)
from .keys import INITIAL, stamp
from .topics import Topic

__all__ = [
    "PartnerBillingLinked",
    "PartnerBillingUpdated",
    "TenantBillingLinked",
    "TenantBillingUpdated",
]

_TENANT = doc("Tenant id (tnt_...).", pattern=TENANT_ID_PATTERN)
_PARTNER = doc("Partner id (prt_...).", pattern=PARTNER_ID_PATTERN)
_COUNTRY = doc("ISO 3166-1 alpha-2 country code.", pattern=COUNTRY_PATTERN)
_VAT = doc("VAT number; null for buyers without one.", minLength=1)
_CHANGED = doc("Names of the fields that changed; never empty.", minItems=1)


def _same(customer_id: str, owner_id: str, owner: str) -> None:
    if customer_id != owner_id:
        raise ValidationError(
            f"scaicontrol_customer_id must equal {owner}", field="scaicontrol_customer_id"
        )


@attrs.frozen(kw_only=True)
class TenantBillingLinked(EventPayload):
    """A tenant's billing profile was created: the tenant is now billable."""

    TOPIC: ClassVar[Topic] = Topic.TENANT_BILLING_LINKED

    tenant_id: str = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    scaicontrol_customer_id: str = attrs.field(
        metadata=doc("Billable party; equals tenant_id.", pattern=TENANT_ID_PATTERN)
    )
    linked_at: datetime = attrs.field(
        converter=utc, metadata=doc("When the billing profile was first created.")
    )
    company_name: str | None = attrs.field(metadata=doc("Company name on the profile."))
    country_code: str | None = attrs.field(metadata=_COUNTRY)
    vat_number: str | None = attrs.field(metadata=_VAT)

    def check_rules(self) -> None:
        super().check_rules()
        _same(self.scaicontrol_customer_id, self.tenant_id, "tenant_id")

    @property
    def resource_id(self) -> str:
        return self.tenant_id

    @property
    def lifecycle_step(self) -> str:
        return INITIAL


@attrs.frozen(kw_only=True)
class TenantBillingUpdated(EventPayload):
    """Billing-relevant fields of an existing tenant billing profile changed."""

    TOPIC: ClassVar[Topic] = Topic.TENANT_BILLING_UPDATED

    tenant_id: str = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    scaicontrol_customer_id: str = attrs.field(
        metadata=doc("Billable party; equals tenant_id.", pattern=TENANT_ID_PATTERN)
    )
    updated_at: datetime = attrs.field(converter=utc, metadata=doc("When the profile was changed."))
    changed_fields: tuple[str, ...] = attrs.field(converter=to_tuple, metadata=_CHANGED)
    company_name: str | None = attrs.field(metadata=doc("Company name after the change."))
    country_code: str | None = attrs.field(metadata=_COUNTRY)
    vat_number: str | None = attrs.field(metadata=_VAT)
    contact_email: str | None = attrs.field(metadata=doc("Billing contact e-mail address."))

    def check_rules(self) -> None:
        super().check_rules()
        _same(self.scaicontrol_customer_id, self.tenant_id, "tenant_id")

    @property
    def resource_id(self) -> str:
        return self.tenant_id

    @property
    def lifecycle_step(self) -> str:
        return stamp(self.updated_at)


@attrs.frozen(kw_only=True)
class PartnerBillingLinked(EventPayload):
    """A partner has both a legal name and a seller country for the first time."""

    TOPIC: ClassVar[Topic] = Topic.PARTNER_BILLING_LINKED

    partner_id: str = attrs.field(metadata=_PARTNER)
    scaicontrol_customer_id: str = attrs.field(
        metadata=doc("Billable party; equals partner_id.", pattern=PARTNER_ID_PATTERN)
    )
    linked_at: datetime = attrs.field(
        converter=utc, metadata=doc("When the seller fields became complete.")
    )
    legal_name: str = attrs.field(metadata=doc("Legal name of the partner.", minLength=1))
    country_code: str = attrs.field(
        metadata=doc("Seller country (ISO 3166-1 alpha-2).", pattern=COUNTRY_PATTERN)
    )
    vat_number: str | None = attrs.field(metadata=_VAT)

    def check_rules(self) -> None:
        super().check_rules()
        _same(self.scaicontrol_customer_id, self.partner_id, "partner_id")

    @property
    def resource_id(self) -> str:
        return self.partner_id

    @property
    def lifecycle_step(self) -> str:
        return INITIAL


@attrs.frozen(kw_only=True)
class PartnerBillingUpdated(EventPayload):
    """Seller fields of an already linked partner changed."""

    TOPIC: ClassVar[Topic] = Topic.PARTNER_BILLING_UPDATED

    partner_id: str = attrs.field(metadata=_PARTNER)
    scaicontrol_customer_id: str = attrs.field(
        metadata=doc("Billable party; equals partner_id.", pattern=PARTNER_ID_PATTERN)
    )
    updated_at: datetime = attrs.field(
        converter=utc, metadata=doc("When the seller fields were changed.")
    )
    changed_fields: tuple[str, ...] = attrs.field(converter=to_tuple, metadata=_CHANGED)
    legal_name: str | None = attrs.field(metadata=doc("Legal name after the change."))
    country_code: str | None = attrs.field(metadata=_COUNTRY)
    vat_number: str | None = attrs.field(metadata=_VAT)

    def check_rules(self) -> None:
        super().check_rules()
        _same(self.scaicontrol_customer_id, self.partner_id, "partner_id")

    @property
    def resource_id(self) -> str:
        return self.partner_id

    @property
    def lifecycle_step(self) -> str:
        return stamp(self.updated_at)
