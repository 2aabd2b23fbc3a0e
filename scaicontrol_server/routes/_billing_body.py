"""Request bodies of the billing-identity routes, validated to the field (422 with ``loc``).

Country codes must be assigned ISO 3166-1 alpha-2 codes; VAT numbers, IBANs and BICs are
checked with python-stdnum (see :mod:`scaicontrol_server.vat`); e-invoice formats and
languages are the documented enums.
"""

from __future__ import annotations

from typing import Any

import attrs

from scaicontrol_core.billing_profiles import PARTNER_LIMITS, PROFILE_LIMITS, BillingProfileInput
from scaicontrol_core.countries import COUNTRY_NAMES
from scaicontrol_core.errors import ValidationError
from scaicontrol_core.identity_records import EinvoiceFormat, InvoiceLanguage

from ..fields import InputError, field
from ..vat import check_bic, check_iban, check_vat_number

__all__ = ["BillingProfileCreateUpdate", "PartnerUpdate"]


def _country(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, str) and value not in COUNTRY_NAMES:
        raise InputError(attribute.name, "value_error",
                         f"'{value}' is not an ISO 3166-1 alpha-2 country code")


def _library(check: Any) -> Any:
    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, str):
            try:
                check(value)
            except ValidationError as exc:
                raise InputError(attribute.name, "value_error", str(exc)) from None

    return validate


def _text(name: str, *, required: bool = False, limits: Any = PROFILE_LIMITS,
          description: str | None = None) -> Any:
    if required:
        return field(min_length=1, max_length=limits[name], description=description)
    return field(default=None, max_length=limits[name], description=description)


_COUNTRY_PATTERN = r"^[A-Z]{2}$"
_EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


@attrs.frozen(kw_only=True)
class BillingProfileCreateUpdate:
    """The 20 writable fields of a tenant billing profile; PUT replaces them all."""

    company_name: str = _text("company_name", required=True)
    address_line1: str = _text("address_line1", required=True)
    address_line2: str | None = _text("address_line2")
    postal_code: str = _text("postal_code", required=True)
    city: str = _text("city", required=True)
    state: str | None = _text("state")
    country_code: str = field(pattern=_COUNTRY_PATTERN, validator=_country,
                              description="ISO 3166-1 alpha-2 code, upper case (e.g. NL).")
    vat_number: str | None = _text(
        "vat_number", description="VAT id; EU numbers are checked (format and check digits) "
        "and must belong to country_code.")
    tax_exempt: bool = False
    contact_email: str | None = field(default=None, max_length=320, pattern=_EMAIL_PATTERN)
    phone: str | None = _text("phone")
    is_business: bool = True
    peppol_id: str | None = _text("peppol_id")
    peppol_scheme: str | None = field(default=None, pattern=r"^[0-9]{4}$",
                                      description="Peppol ICD scheme, four digits (e.g. 0106).")
    leitweg_id: str | None = _text("leitweg_id")
    preferred_einvoice_format: EinvoiceFormat | None = None
    preferred_language: InvoiceLanguage = InvoiceLanguage.EN
    invoice_template_name: str | None = _text("invoice_template_name")
    email_template_name: str | None = _text("email_template_name")
    buyer_reference: str | None = _text("buyer_reference")

    def __attrs_post_init__(self) -> None:
        if self.vat_number is not None and self.country_code in COUNTRY_NAMES:
            try:
                check_vat_number(self.vat_number, self.country_code)
            except ValidationError as exc:
                raise InputError("vat_number", "value_error", str(exc)) from None
        if (self.peppol_id is None) != (self.peppol_scheme is None):
            raise InputError("peppol_id", "value_error",
                             "peppol_id and peppol_scheme must be given together")

    def to_input(self) -> BillingProfileInput:
        return BillingProfileInput(**attrs.asdict(self, recurse=False))


def _partner_text(name: str, description: str | None = None) -> Any:
    return field(default=None, max_length=PARTNER_LIMITS[name], description=description)


@attrs.frozen(kw_only=True)
class PartnerUpdate:
    """Partner fields to change; an absent field stays as it is, ``null`` clears it."""

    name: str | None = field(default=None, min_length=1, max_length=255,
                             description="Display name of the partner (cannot be cleared).")
    legal_name: str | None = _partner_text("legal_name")
    address_line1: str | None = _partner_text("address_line1")
    address_line2: str | None = _partner_text("address_line2")
    postal_code: str | None = _partner_text("postal_code")
    city: str | None = _partner_text("city")
    state: str | None = _partner_text("state")
    seller_country_code: str | None = field(default=None, pattern=_COUNTRY_PATTERN,
                                            validator=_country,
                                            description="Seller country, ISO 3166-1 alpha-2.")
    vat_number: str | None = _partner_text("vat_number")
    iban: str | None = field(default=None, max_length=42, validator=_library(check_iban))
    bic: str | None = field(default=None, max_length=11, validator=_library(check_bic))
    bank_name: str | None = _partner_text("bank_name")
    contact_email: str | None = field(default=None, max_length=320, pattern=_EMAIL_PATTERN)
    invoice_template_name: str | None = _partner_text("invoice_template_name")
    email_template_name: str | None = _partner_text("email_template_name")
    logo_url: str | None = field(default=None, max_length=2048, pattern=r"^https?://\S+$")

    def __attrs_post_init__(self) -> None:
        if self.vat_number is not None and self.seller_country_code in COUNTRY_NAMES:
            try:
                check_vat_number(self.vat_number, str(self.seller_country_code))
            except ValidationError as exc:
                raise InputError("vat_number", "value_error", str(exc)) from None
