"""Service packs for tenants: ``/api/v1/service-packs`` (tag ``service-packs``).

Browsing needs ``services:read``; the caller's pack subscriptions need
``subscriptions:read``; buying and cancelling need ``billing:manage``. Buying a pack
creates one pack subscription and one child subscription per pack item; cancelling the
pack cancels every child with it.
"""

from __future__ import annotations

import attrs

from scaicontrol_core.catalog_records import SubscriptionStatus

from ..api import Call, Endpoint, Page, ResponseKind
from ..fields import field
from ._commerce import pack_service, tenant_reach_of
from ._commerce_views import (
    PackResponse,
    PackSubscriptionResponse,
    pack_subscription_view,
    pack_view,
)
from .subscriptions import TenantCancelRequest

__all__ = ["ENDPOINTS", "PackPath", "PackSubscriptionPath", "PackSubscriptionQuery"]

TAG = "service-packs"


@attrs.frozen(kw_only=True)
class PackPath:
    pack: str = field(max_length=64, description="Pack slug (or id).")


@attrs.frozen(kw_only=True)
class PackSubscriptionPath:
    pack_subscription_id: str = field(max_length=64, description="Pack subscription id.")


@attrs.frozen(kw_only=True)
class PackSubscriptionQuery:
    status: SubscriptionStatus | None = field(default=None, description="Only this status.")  # noqa: RUF009


async def list_service_packs(call: Call[None, None, None]) -> Page[PackResponse]:
    """Packs for sale, with their prices."""
    items, total = await call.run(pack_service(call).list_packs, public_only=True,
                                  offset=call.page.offset, limit=call.page.limit)
    return Page(items=[pack_view(quote) for quote in items], total=total)


async def get_service_pack(call: Call[None, None, PackPath]) -> PackResponse:
    """One pack for sale, with its items and prices."""
    return pack_view(await call.run(pack_service(call).get_pack, call.path.pack,
                                    public_only=True))


async def subscribe_service_pack(call: Call[None, None, PackPath]) -> PackSubscriptionResponse:
    """Buy the pack: ``trialing`` when it has trial days, else ``active``; records
    ``pack_subscription.activated``. Needs a billing profile (400) and no live subscription
    to any of the pack's services (409)."""
    reach = tenant_reach_of(call)
    service = pack_service(call)
    await call.run(service.get_pack, call.path.pack, public_only=True)  # hidden packs: 404
    bought = await call.run(service.subscribe, reach, tenant_id=reach.tenant_id or "",
                            pack=call.path.pack, now=call.now())
    return pack_subscription_view(bought)


async def list_pack_subscriptions(
    call: Call[None, PackSubscriptionQuery, None],
) -> Page[PackSubscriptionResponse]:
    """The caller's tenant's pack subscriptions with their children, newest first."""
    items, total = await call.run(pack_service(call).list_subscriptions, tenant_reach_of(call),
                                  status=call.query.status, offset=call.page.offset,
                                  limit=call.page.limit)
    return Page(items=[pack_subscription_view(view) for view in items], total=total)


async def cancel_pack_subscription(
    call: Call[TenantCancelRequest, None, PackSubscriptionPath],
) -> PackSubscriptionResponse:
    """Cancel the pack and every child: at once during a trial, else at the end of the
    period (``cancelling``); records ``pack_subscription.cancelled`` when it ends."""
    return pack_subscription_view(await call.run(
        pack_service(call).cancel, tenant_reach_of(call), call.path.pack_subscription_id,
        now=call.now(), reason=call.body.reason,
    ))


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/service-packs", handler=list_service_packs,
             access="services:read", tag=TAG, kind=ResponseKind.PAGE,
             response_schema=PackResponse),
    # before /service-packs/{pack}: routes match in order ('subscriptions' is a reserved slug)
    Endpoint(method="GET", path="/service-packs/subscriptions", handler=list_pack_subscriptions,
             access="subscriptions:read", tag=TAG, kind=ResponseKind.PAGE,
             response_schema=PackSubscriptionResponse, query_schema=PackSubscriptionQuery),
    Endpoint(method="GET", path="/service-packs/{pack}", handler=get_service_pack,
             access="services:read", tag=TAG, response_schema=PackResponse, path_schema=PackPath,
             errors={404}),
    Endpoint(method="POST", path="/service-packs/{pack}/subscribe",
             handler=subscribe_service_pack, access="billing:manage", tag=TAG, status=201,
             response_schema=PackSubscriptionResponse, path_schema=PackPath,
             errors={400, 404, 409}),
    Endpoint(method="POST", path="/service-packs/subscriptions/{pack_subscription_id}/cancel",
             handler=cancel_pack_subscription, access="billing:manage", tag=TAG,
             response_schema=PackSubscriptionResponse, body_schema=TenantCancelRequest,
             path_schema=PackSubscriptionPath, errors={400, 404, 409}),
)
