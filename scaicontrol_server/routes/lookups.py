"""Public reference lists: ``/api/v1/lookups/...``.

These are untagged on purpose: the contract's ``admin-lookups`` tag is for operator
screens behind a scope, while these answer anyone and change only with a release. They
also exercise the whole layer (pagination, query, path and 404) on harmless data.
"""

from __future__ import annotations

import attrs

from scaicontrol_core.currencies import CURRENCY_NAMES, MINOR_UNITS
from scaicontrol_core.errors import NotFound

from ..api import PUBLIC, Call, Endpoint, Page, ResponseKind, paginate
from ..fields import field

__all__ = ["ENDPOINTS", "Currency", "CurrencyPath", "CurrencyQuery"]


@attrs.frozen(kw_only=True)
class Currency:
    """An ISO 4217 currency."""

    code: str
    """Alphabetic code, e.g. EUR."""
    name: str
    """English name."""
    minor_units: int
    """Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD."""


@attrs.frozen(kw_only=True)
class CurrencyQuery:
    q: str | None = field(
        default=None, max_length=64, description="Case-insensitive filter on code or name."
    )


@attrs.frozen(kw_only=True)
class CurrencyPath:
    code: str = field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code, in any case.")


def _currency(code: str) -> Currency:
    return Currency(code=code, name=CURRENCY_NAMES[code], minor_units=MINOR_UNITS[code])


async def list_currencies(call: Call[None, CurrencyQuery, None]) -> Page[Currency]:
    """Currencies by code, optionally filtered on code or name."""
    needle = (call.query.q or "").strip().lower()
    codes = sorted(
        code
        for code, name in CURRENCY_NAMES.items()
        if needle in code.lower() or needle in name.lower()
    )
    return paginate([_currency(code) for code in codes], call.page)


async def get_currency(call: Call[None, None, CurrencyPath]) -> Currency:
    """One currency by its ISO 4217 code."""
    code = call.path.code.upper()
    if code not in CURRENCY_NAMES:
        raise NotFound("Currency", code)
    return _currency(code)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        method="GET",
        path="/lookups/currencies",
        handler=list_currencies,
        access=PUBLIC,
        kind=ResponseKind.PAGE,
        response_schema=Currency,
        query_schema=CurrencyQuery,
    ),
    Endpoint(
        method="GET",
        path="/lookups/currencies/{code}",
        handler=get_currency,
        access=PUBLIC,
        response_schema=Currency,
        path_schema=CurrencyPath,
    ),
)
