"""Billing identities: the tenant's buyer profile and the partner's seller configuration.

Creating a tenant's profile records ``tenant.billing_linked``; later changes record
``tenant.billing_updated`` with the changed fields. A partner becomes billable the first
time both ``legal_name`` and ``seller_country_code`` are set (``partner.billing_linked``);
later changes of a linked partner record ``partner.billing_updated``. Events and audit
entries are written in the caller's unit of work, so they commit with the change.

VAT numbers are checked by a :data:`VatChecker` the caller supplies (the server uses a
maintained validation library); without one only their shape is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from .audit import Actor, record_change
from .countries import is_country_code
from .errors import ValidationError
from .events import (
    PartnerBillingLinked,
    PartnerBillingUpdated,
    TenantBillingLinked,
    TenantBillingUpdated,
    build_event,
)
from .identity_records import (
    EinvoiceFormat,
    InvoiceLanguage,
    PartnerConfiguration,
    TenantBillingProfile,
)
from .ids import IdFactory
from .notifications.recording import record_event
from .ports import UnitOfWork
from .records import Partner, Tenant

__all__ = [
    "PARTNER_FIELDS",
    "PARTNER_LIMITS",
    "PROFILE_FIELDS",
    "PROFILE_LIMITS",
    "BillingProfileInput",
    "VatChecker",
    "has_billing_profile",
    "is_billable",
    "patch_partner_configuration",
    "upsert_billing_profile",
]

#: ``(vat_number, country_code) -> normalised number``; raises ValidationError if invalid.
VatChecker = Callable[[str, str], str]

#: Longest accepted value of each text field of a tenant billing profile.
PROFILE_LIMITS: Final[Mapping[str, int]] = {
    "company_name": 255, "address_line1": 255, "address_line2": 255, "postal_code": 32,
    "city": 128, "state": 128, "country_code": 2, "vat_number": 32, "contact_email": 320,
    "phone": 64, "peppol_id": 128, "peppol_scheme": 4, "leitweg_id": 64,
    "invoice_template_name": 128, "email_template_name": 128, "buyer_reference": 255,
}
#: Longest accepted value of each text field of a partner configuration.
PARTNER_LIMITS: Final[Mapping[str, int]] = {
    "legal_name": 255, "address_line1": 255, "address_line2": 255, "postal_code": 32,
    "city": 128, "state": 128, "seller_country_code": 2, "vat_number": 32, "iban": 34,
    "bic": 11, "bank_name": 255, "contact_email": 320, "invoice_template_name": 128,
    "email_template_name": 128, "logo_url": 2048,
}
_VAT_SHAPE = re.compile(r"^[A-Z0-9]{2,32}$")
_PEPPOL_SCHEME = re.compile(r"^[0-9]{4}$")


@attrs.frozen(kw_only=True)
class BillingProfileInput:
    """The 20 writable fields of a tenant billing profile (``BillingProfileCreateUpdate``)."""

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


PROFILE_FIELDS: Final = tuple(f.name for f in attrs.fields(BillingProfileInput))
PARTNER_FIELDS: Final = tuple(PARTNER_LIMITS)


def _text(values: dict[str, Any], limits: Mapping[str, int], required: tuple[str, ...]) -> None:
    """Trim text, turn blank optional text into None, and check lengths and presence."""
    for name, limit in limits.items():
        value = values.get(name)
        if isinstance(value, str):
            value = value.strip() or None
            values[name] = value
        if value is None and name in required:
            raise ValidationError(f"{name} is required", field=name)
        if value is not None and len(value) > limit:
            raise ValidationError(f"{name} is longer than {limit} characters", field=name)


def _country(value: str | None, name: str) -> None:
    if value is not None and not is_country_code(value):
        raise ValidationError(f"{name} '{value}' is not an ISO 3166-1 alpha-2 code", field=name)


def _vat(values: dict[str, Any], country_field: str, check: VatChecker | None) -> None:
    number, country = values.get("vat_number"), values.get(country_field)
    if number is None:
        return
    if check is not None and country is not None:
        values["vat_number"] = check(number, country)
    elif not _VAT_SHAPE.match(number.replace(" ", "").upper()):
        raise ValidationError(f"vat_number '{number}' is not a VAT number", field="vat_number")


def normalised_profile(data: BillingProfileInput, check: VatChecker | None) -> dict[str, Any]:
    """The input as stored: trimmed, validated, with the VAT number normalised."""
    values = attrs.asdict(data, recurse=False)
    _text(values, PROFILE_LIMITS,
          ("company_name", "address_line1", "postal_code", "city", "country_code"))
    _country(values["country_code"], "country_code")
    _vat(values, "country_code", check)
    if (values["peppol_id"] is None) != (values["peppol_scheme"] is None):
        raise ValidationError("peppol_id and peppol_scheme go together", field="peppol_id")
    scheme = values["peppol_scheme"]
    if scheme is not None and not _PEPPOL_SCHEME.match(scheme):
        raise ValidationError("peppol_scheme is a four-digit ICD code", field="peppol_scheme")
    return values


def has_billing_profile(uow: UnitOfWork, tenant_id: str) -> bool:
    """Whether the tenant may do commerce: its billing profile exists."""
    return uow.tenant_billing_profiles.get(tenant_id) is not None


def upsert_billing_profile(
    uow: UnitOfWork,
    tenant: Tenant,
    data: BillingProfileInput,
    *,
    now: datetime,
    ids: IdFactory,
    actor: Actor,
    vat_check: VatChecker | None = None,
) -> tuple[TenantBillingProfile, tuple[str, ...]]:
    """Create or replace the tenant's profile; returns it and the fields that changed
    (every field on creation, none when the input equals what is stored)."""
    values = normalised_profile(data, vat_check)
    current = uow.tenant_billing_profiles.get(tenant.id)
    if current is None:
        profile = uow.tenant_billing_profiles.add(TenantBillingProfile(
            id=tenant.id, tenant_id=tenant.id, created_at=now, updated_at=now, **values,
        ))
        payload: Any = TenantBillingLinked(
            tenant_id=tenant.id, partner_id=tenant.partner_id,
            scaicontrol_customer_id=tenant.id, linked_at=now,
            company_name=profile.company_name, country_code=profile.country_code,
            vat_number=profile.vat_number,
        )
        changed = PROFILE_FIELDS
    else:
        changed = tuple(n for n in PROFILE_FIELDS if getattr(current, n) != values[n])
        if not changed:
            return current, ()
        profile = uow.tenant_billing_profiles.update(
            attrs.evolve(current, updated_at=now, **values)
        )
        payload = TenantBillingUpdated(
            tenant_id=tenant.id, partner_id=tenant.partner_id,
            scaicontrol_customer_id=tenant.id, updated_at=now, changed_fields=changed,
            company_name=profile.company_name, country_code=profile.country_code,
            vat_number=profile.vat_number, contact_email=profile.contact_email,
        )
    record_event(uow, build_event(payload, occurred_at=now, ids=ids))
    record_change(
        uow, actor=actor, action="billing_profile.upsert", resource_type="billing_profile",
        resource_id=tenant.id, before=current, after=profile, now=now, ids=ids,
        tenant_id=tenant.id, partner_id=tenant.partner_id,
    )
    return profile, changed


def is_billable(config: PartnerConfiguration | None) -> bool:
    """A partner is billable once both its legal name and seller country are set."""
    return config is not None and bool(config.legal_name) and bool(config.seller_country_code)


def patch_partner_configuration(
    uow: UnitOfWork,
    partner: Partner,
    changes: Mapping[str, Any],
    *,
    now: datetime,
    ids: IdFactory,
    actor: Actor,
    vat_check: VatChecker | None = None,
) -> tuple[PartnerConfiguration, tuple[str, ...]]:
    """Apply ``changes`` (field -> new value, None clears) to the partner's seller
    configuration, creating it if needed; returns it and the fields that changed."""
    unknown = sorted(set(changes) - set(PARTNER_FIELDS))
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
    current = uow.partner_configurations.get(partner.id)
    base = current or PartnerConfiguration(
        id=partner.id, partner_id=partner.id, created_at=now, updated_at=now
    )
    values = {name: getattr(base, name) for name in PARTNER_FIELDS} | dict(changes)
    _text(values, PARTNER_LIMITS, ())
    _country(values["seller_country_code"], "seller_country_code")
    _vat(values, "seller_country_code", vat_check)
    changed = tuple(n for n in PARTNER_FIELDS if getattr(base, n) != values[n])
    if not changed:
        return base, ()
    linked_before = base.billing_linked_at is not None
    draft = attrs.evolve(base, updated_at=now, **values)
    first_link = not linked_before and is_billable(draft)
    if first_link:
        draft = attrs.evolve(draft, billing_linked_at=now)
    if current is None:
        config = uow.partner_configurations.add(draft)
    else:
        config = uow.partner_configurations.update(draft)
    payload: Any = None
    if first_link:
        payload = PartnerBillingLinked(
            partner_id=partner.id, scaicontrol_customer_id=partner.id, linked_at=now,
            legal_name=str(config.legal_name), country_code=str(config.seller_country_code),
            vat_number=config.vat_number,
        )
    elif linked_before:
        payload = PartnerBillingUpdated(
            partner_id=partner.id, scaicontrol_customer_id=partner.id, updated_at=now,
            changed_fields=changed, legal_name=config.legal_name,
            country_code=config.seller_country_code, vat_number=config.vat_number,
        )
    if payload is not None:
        record_event(uow, build_event(payload, occurred_at=now, ids=ids))
    record_change(
        uow, actor=actor, action="partner_configuration.update",
        resource_type="partner_configuration", resource_id=partner.id, before=current,
        after=config, now=now, ids=ids, partner_id=partner.id,
    )
    return config, changed
