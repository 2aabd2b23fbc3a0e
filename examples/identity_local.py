"""Identity without a web server: log a demo user in with the local provider, verify the
access token, resolve what the caller may do, and change a billing profile (which records
``tenant.billing_linked`` or ``tenant.billing_updated`` in the outbox in the same unit of
work).

Run it with ``python examples/identity_local.py`` (needs ``pip install 'scaicontrol[identity]'``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from scaicontrol_adapters.identity.local import LocalIdentityProvider
from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.access import Scope
from scaicontrol_core.audit import Actor
from scaicontrol_core.billing_profiles import BillingProfileInput, upsert_billing_profile
from scaicontrol_core.clock import ManualClock
from scaicontrol_core.demo import load_demo
from scaicontrol_core.identity import resolve_principal
from scaicontrol_core.identity_demo import DEMO_PASSWORD
from scaicontrol_core.identity_provider import IdentityConfig, TokenRequest
from scaicontrol_core.ids import RandomIds

__all__: list[str] = []


async def main() -> None:
    clock = ManualClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    ids = RandomIds()
    storage = MemoryStorage()
    with storage.unit_of_work(cross_tenant=True) as uow:
        load_demo(uow, now=clock.now(), ids=ids)
        uow.commit()

    provider = LocalIdentityProvider(IdentityConfig(
        storage=storage, clock=clock, ids=ids, public_url="http://localhost:8000"))
    tokens = await provider.token(TokenRequest(
        grant_type="password", username="admin@globex.example", password=DEMO_PASSWORD))
    print(f"logged in: access token for {tokens['expires_in']} s, plus a refresh token")

    verified = await provider.verify(tokens["access_token"])
    with storage.unit_of_work() as uow:
        principal = resolve_principal(uow, verified)
    print(f"{principal.subject} of {principal.tenant_id}: roles {sorted(principal.roles)}")
    print(f"may manage billing: {principal.has(Scope.BILLING_MANAGE)}, "
          f"may list tenants: {principal.has(Scope.ADMIN_TENANTS)}")

    tenant_id = principal.tenant_id or ""
    with storage.unit_of_work(tenant_id=tenant_id) as uow:
        tenant = uow.tenants.require(tenant_id)
        _, changed = upsert_billing_profile(
            uow, tenant,
            BillingProfileInput(company_name="Globex Logistics B.V.", address_line1="Kade 5",
                                postal_code="3011 AA", city="Rotterdam", country_code="NL"),
            now=clock.now(), ids=ids, actor=Actor(id=principal.subject),
        )
        uow.commit()
    print(f"billing profile saved; changed: {', '.join(changed) or 'nothing'}")
    with storage.unit_of_work() as uow:
        for message in uow.outbox.find(limit=1000):
            if message.topic.startswith("tenant.") and message.tenant_id == tenant_id:
                print(f"outbox: {message.topic} {message.key}")


if __name__ == "__main__":
    asyncio.run(main())
