"""VAT number, IBAN and BIC checks through python-stdnum, a maintained validation library.

EU numbers are validated with ``stdnum.eu.vat`` (format and check digits) and must belong to
the profile's country (Greece uses the prefix EL, Northern Ireland XI with country GB).
Numbers of other countries are validated with that country's ``stdnum`` module when one
exists; otherwise only their shape is checked. Nothing here asks an online register (VIES).
"""

from __future__ import annotations

import re
from typing import Any

import stdnum
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from scaicontrol_core.countries import EU_MEMBER_STATES
from scaicontrol_core.errors import ValidationError

__all__ = ["check_bic", "check_iban", "check_vat_number"]

_VAT_PREFIX = {"GR": "EL"}  # the country code a VAT number starts with, where it differs
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
_SHAPE = re.compile(r"^[A-Z0-9]{4,32}$")


def _refuse(number: str, why: str) -> ValidationError:
    return ValidationError(f"vat_number '{number}' is not a valid VAT number: {why}",
                           field="vat_number")


def check_vat_number(number: str, country_code: str) -> str:
    """The number in compact form, or ValidationError naming what is wrong with it."""
    compact = re.sub(r"[\s.\-/,:]", "", number).upper()
    if not compact:
        raise _refuse(number, "it is empty")
    prefix = compact[:2]
    has_prefix = prefix.isalpha()
    if country_code in EU_MEMBER_STATES and not has_prefix:
        compact = _VAT_PREFIX.get(country_code, country_code) + compact
        prefix, has_prefix = compact[:2], True
    if has_prefix and (prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL"):
        try:
            compact = eu_vat.validate(compact).upper()
        except StdnumError as exc:
            raise _refuse(number, str(exc).rstrip(".").lower()) from None
        owner = _PREFIX_COUNTRY.get(prefix, prefix)
        if owner != country_code:
            raise _refuse(number, f"it belongs to {owner}, not {country_code}")
        return compact
    if country_code in EU_MEMBER_STATES:
        raise _refuse(number, f"an EU VAT number of {country_code} starts with "
                              f"{_VAT_PREFIX.get(country_code, country_code)}")
    module: Any = stdnum.get_cc_module(country_code.lower(), "vat")
    if module is not None:
        try:
            return str(module.compact(module.validate(number)))
        except StdnumError as exc:
            raise _refuse(number, str(exc).rstrip(".").lower()) from None
    if not _SHAPE.match(compact):
        raise _refuse(number, "use 4 to 32 letters and digits")
    return compact


def check_iban(value: str) -> str:
    """A valid IBAN in compact form, or ValidationError."""
    from stdnum import iban

    try:
        return str(iban.validate(value))
    except StdnumError as exc:
        raise ValidationError(f"iban '{value}' is not valid: {str(exc).rstrip('.').lower()}",
                              field="iban") from None


def check_bic(value: str) -> str:
    """A valid BIC (8 or 11 characters) in compact form, or ValidationError."""
    from stdnum import bic

    try:
        return str(bic.validate(value))
    except StdnumError as exc:
        raise ValidationError(f"bic '{value}' is not valid: {str(exc).rstrip('.').lower()}",
                              field="bic") from None
