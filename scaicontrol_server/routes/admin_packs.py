"""Operators manage service packs: ``/api/v1/admin/service-packs`` (tag ``admin-packs``,
scope ``admin:billing``).

A pack bundles plans of different services sold as one unit, priced ``fixed_price``
(``base_price_cents`` is the bill) or ``percentage`` (the items' prices less
``discount_percentage``). Every item plan must bill in the pack's currency and period.
Changes do not touch existing pack subscriptions. A pack nobody ever bought can be
deleted; otherwise set ``is_active`` to false.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from scaicontrol_core.catalog_records import (
    BillingPeriod,
    DiscountType,
    PlanFeatures,
    ServicePackItem,
)
from scaicontrol_core.commerce import NewPack, PackChanges

from ..api import Call, Endpoint, Page, ResponseKind
from ..fields import field
from ._commerce import pack_service
from ._commerce_views import PackResponse, pack_view
from ._common import present_fields
from .admin_catalog import partial
from .service_packs import PackPath

__all__ = ["ENDPOINTS", "PackCreateRequest", "PackItemRequest", "PackUpdateRequest"]

TAG = "admin-packs"
SCOPE = "admin:billing"


@attrs.frozen(kw_only=True)
class PackItemRequest:
    service_id: str = field(max_length=64)
    plan_id: str = field(max_length=64)
    override_price_cents: int | None = field(default=None, ge=0, le=10**12,
                                             description="Null inherits the plan's price.")
    sort_order: int = field(default=0, ge=-1_000_000, le=1_000_000)


@attrs.frozen(kw_only=True)
class PackCreateRequest:
    slug: str = field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Fixed for life.")
    name: str = field(min_length=1, max_length=255)
    billing_period: BillingPeriod
    base_price_cents: int = field(ge=0, le=10**12)
    currency: str = field(pattern=r"^[A-Z]{3}$")
    discount_type: DiscountType
    items: list[PackItemRequest] = field(min_length=1, max_length=20)  # noqa: RUF009
    discount_percentage: Decimal | None = field(default=None,  # noqa: RUF009
                                                description="0-100, percentage packs only.")
    description: str | None = field(default=None, max_length=2000)
    icon_url: str | None = field(default=None, max_length=2048)
    trial_days: int = field(default=0, ge=0, le=366)
    features: PlanFeatures = attrs.field(factory=PlanFeatures)
    is_active: bool = True
    is_public: bool = True
    sort_order: int = field(default=0, ge=-1_000_000, le=1_000_000)


@attrs.frozen(kw_only=True)
class PackUpdateRequest:
    name: str | None = field(default=None, min_length=1, max_length=255)
    description: str | None = field(default=None, max_length=2000)
    icon_url: str | None = field(default=None, max_length=2048)
    base_price_cents: int | None = field(default=None, ge=0, le=10**12)
    discount_type: DiscountType | None = None
    discount_percentage: Decimal | None = None
    trial_days: int | None = field(default=None, ge=0, le=366)
    features: PlanFeatures | None = None
    items: list[PackItemRequest] | None = field(default=None, min_length=1, max_length=20)  # noqa: RUF009
    is_active: bool | None = None
    is_public: bool | None = None
    sort_order: int | None = field(default=None, ge=-1_000_000, le=1_000_000)


def _items(items: list[PackItemRequest]) -> tuple[ServicePackItem, ...]:
    return tuple(ServicePackItem(**attrs.asdict(item)) for item in items)


async def list_admin_packs(call: Call[None, None, None]) -> Page[PackResponse]:
    """Every pack, including inactive and private ones."""
    items, total = await call.run(pack_service(call).list_packs, offset=call.page.offset,
                                  limit=call.page.limit)
    return Page(items=[pack_view(quote) for quote in items], total=total)


async def create_admin_pack(call: Call[PackCreateRequest, None, None]) -> PackResponse:
    """Create a pack; 409 if the slug is taken, 400 if an item breaks a pack rule."""
    body = call.body
    values = {a.name: getattr(body, a.name) for a in attrs.fields(PackCreateRequest)}
    values["items"] = _items(body.items)
    quote = await call.run(pack_service(call).create_pack, NewPack(**values), now=call.now())
    return pack_view(quote)


async def get_admin_pack(call: Call[None, None, PackPath]) -> PackResponse:
    """One pack, whatever its visibility."""
    return pack_view(await call.run(pack_service(call).get_pack, call.path.pack))


async def update_admin_pack(call: Call[PackUpdateRequest, None, PackPath]) -> PackResponse:
    """Change a pack (slug, currency and billing period are fixed for life); ``null``
    clears the description, icon or discount percentage."""
    present = await present_fields(call)
    values = partial(call.body, present,
                     frozenset({"description", "icon_url", "discount_percentage"}))
    if call.body.items is not None and "items" in present:
        values["items"] = _items(call.body.items)
    quote = await call.run(pack_service(call).update_pack, call.path.pack,
                           PackChanges(**values), now=call.now())
    return pack_view(quote)


async def delete_admin_pack(call: Call[None, None, PackPath]) -> None:
    """Delete a pack nobody ever subscribed to (409 otherwise: deactivate it instead)."""
    await call.run(pack_service(call).delete_pack, call.path.pack)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/admin/service-packs", handler=list_admin_packs, access=SCOPE,
             tag=TAG, kind=ResponseKind.PAGE, response_schema=PackResponse),
    Endpoint(method="POST", path="/admin/service-packs", handler=create_admin_pack,
             access=SCOPE, tag=TAG, status=201, response_schema=PackResponse,
             body_schema=PackCreateRequest, errors={400, 409}),
    Endpoint(method="GET", path="/admin/service-packs/{pack}", handler=get_admin_pack,
             access=SCOPE, tag=TAG, response_schema=PackResponse, path_schema=PackPath,
             errors={404}),
    Endpoint(method="PATCH", path="/admin/service-packs/{pack}", handler=update_admin_pack,
             access=SCOPE, tag=TAG, response_schema=PackResponse, body_schema=PackUpdateRequest,
             path_schema=PackPath, errors={400, 404, 409}),
    Endpoint(method="DELETE", path="/admin/service-packs/{pack}", handler=delete_admin_pack,
             access=SCOPE, tag=TAG, kind=ResponseKind.EMPTY, path_schema=PackPath,
             errors={404, 409}),
)
