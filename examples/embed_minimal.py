"""Use scaicontrol as a library: no server, in-memory storage, simulated time.

Run it with ``python examples/embed_minimal.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core import ManualClock, SequentialIds
from scaicontrol_core.demo import load_demo
from scaicontrol_core.ids import IdPrefix
from scaicontrol_core.records import NewOutboxMessage, Tenant

__all__ = ["main"]


def main() -> None:
    clock = ManualClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    ids = SequentialIds()
    storage = MemoryStorage()

    # Load the demo organisations, then add a tenant and record an event with it, atomically.
    with storage.unit_of_work(cross_tenant=True) as uow:
        load_demo(uow, now=clock.now(), ids=ids)
        tenant = uow.tenants.add(
            Tenant(id=ids.prefixed(IdPrefix.TENANT), partner_id="prt_demo_northwind",
                   name="Example Corp", created_at=clock.now(), updated_at=clock.now())
        )
        uow.outbox.append(NewOutboxMessage(
            kind="event", topic="tenant.created", key=f"tenant:{tenant.id}:created:1",
            payload={"tenant_id": tenant.id}, tenant_id=tenant.id, created_at=clock.now(),
        ))
        uow.commit()

    # A worker leases the message, handles it, and marks it done.
    clock.advance(timedelta(seconds=5))
    with storage.unit_of_work() as uow:
        for message in uow.outbox.claim(owner="example-worker", now=clock.now(),
                                        lease=timedelta(seconds=30), limit=10):
            print(f"handling {message.topic} #{message.seq}: {dict(message.payload)}")
            uow.outbox.complete(message.seq, owner="example-worker", now=clock.now())
        uow.commit()

    with storage.unit_of_work() as uow:
        for t in uow.tenants.find({"partner_id": "prt_demo_northwind"}, order_by=["name"]):
            print(f"{t.id}  {t.name}")


if __name__ == "__main__":
    main()
