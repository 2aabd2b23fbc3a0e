"""The catalog part of the demo data set: what it contains, and that it loads once."""

from __future__ import annotations

from datetime import UTC, datetime

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.catalog_demo import DEMO_PACKS, DEMO_PLANS, demo_id
from scaicontrol_core.demo import load_demo
from scaicontrol_core.ids import SequentialIds
from scaicontrol_core.machines.subscription import SubscriptionStatus as S

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


def load(storage: MemoryStorage) -> tuple[int, int]:
    with storage.unit_of_work(cross_tenant=True) as uow:
        summary = load_demo(uow, now=NOW, ids=SequentialIds())
        uow.commit()
    return summary.created, summary.unchanged


def everything(storage: MemoryStorage) -> tuple[object, ...]:
    with storage.unit_of_work(cross_tenant=True) as uow:
        return (tuple(uow.services.find()), tuple(uow.plans.find()),
                tuple(uow.service_packs.find()), tuple(uow.subscriptions.find()),
                tuple(uow.pack_subscriptions.find()), tuple(uow.tenants.find()),
                tuple(m.key for m in uow.outbox.find(limit=10_000)))


def test_the_demo_loads_once() -> None:
    """A second load creates nothing and changes no record or event."""
    storage = MemoryStorage()
    created, _ = load(storage)
    first = everything(storage)
    assert load(storage) == (0, created)
    assert everything(storage) == first


def test_demo_subscriptions_cover_the_lifecycle() -> None:
    """Demo tenants hold subscriptions in varied states, and a pack with children."""
    storage = MemoryStorage()
    load(storage)
    expected = {"acme-scaikey": S.ACTIVE, "acme-scaidrive": S.TRIALING,
                "globex-scaidrive": S.CANCELLING, "initech-scaikey": S.PAST_DUE,
                "initech-scaivault": S.SUSPENDED}
    with storage.unit_of_work(cross_tenant=True) as uow:
        for name, status in expected.items():
            assert uow.subscriptions.require(demo_id(f"subscription:{name}")).status is status
        pack = uow.pack_subscriptions.require(demo_id("subscription:globex-security"))
        children = uow.subscriptions.find({"pack_subscription_id": pack.id})
        assert pack.status is S.ACTIVE and pack.price_cents == 9440
        assert sorted(c.plan_key for c in children) == ["scaikey.pro", "scaivault.pro"]
        keys = {p.plan_key for p in uow.plans.find()}
        assert keys == {f"{p.service_id}.{p.slug}" for p in DEMO_PLANS}
        assert {p.slug for p in uow.service_packs.find()} == {slug for slug, *_ in DEMO_PACKS}
        topics = {m.topic for m in uow.outbox.find(limit=10_000)}
    assert {"subscription.activated", "pack_subscription.activated", "subscription.suspended",
            "subscription.payment_failed", "subscription.changed"} <= topics
