"""The demo data set loads idempotently; housekeeping purges only old finished messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.demo import DEMO_PARTNERS, DEMO_TENANTS, load_demo
from scaicontrol_core.errors import ValidationError
from scaicontrol_core.housekeeping import purge_finished_outbox
from scaicontrol_core.records import NewOutboxMessage

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_demo_loads_once_and_a_second_run_changes_nothing() -> None:
    """The first run creates every record; the second creates none and alters none."""
    storage = MemoryStorage()
    with storage.unit_of_work(cross_tenant=True) as uow:
        first = load_demo(uow, now=NOW)
        uow.commit()
    with storage.unit_of_work() as uow:
        before = (uow.partners.find(), uow.tenants.find(), uow.outbox.find())
    with storage.unit_of_work(cross_tenant=True) as uow:
        second = load_demo(uow, now=NOW + timedelta(days=1))
        uow.commit()
    with storage.unit_of_work() as uow:
        after = (uow.partners.find(), uow.tenants.find(), uow.outbox.find())
    assert first.created > len(DEMO_PARTNERS) + len(DEMO_TENANTS) and first.unchanged == 0
    assert (second.created, second.unchanged) == (0, first.created)
    assert before == after


def test_demo_tenants_belong_to_demo_partners() -> None:
    """Every demo tenant names a demo partner, and exactly one partner is the operator."""
    partner_ids = {pid for pid, _, _ in DEMO_PARTNERS}
    assert all(partner in partner_ids for _, partner, _, _ in DEMO_TENANTS)
    assert sum(1 for _, _, is_operator in DEMO_PARTNERS if is_operator) == 1


def test_purge_keeps_recent_pending_and_dead_messages() -> None:
    """Only done messages older than the retention are removed."""
    storage = MemoryStorage()
    with storage.unit_of_work() as uow:
        for key in ("old", "recent", "dead", "pending"):
            uow.outbox.append(NewOutboxMessage(kind="event", topic="t", key=key, payload={},
                                               created_at=NOW - timedelta(days=40)))
        uow.commit()
    with storage.unit_of_work() as uow:
        old, recent, dead, _ = uow.outbox.claim(owner="w", now=NOW, lease=timedelta(minutes=1),
                                                limit=4)
        uow.outbox.complete(old.seq, owner="w", now=NOW - timedelta(days=31))
        uow.outbox.complete(recent.seq, owner="w", now=NOW - timedelta(days=29))
        uow.outbox.give_up(dead.seq, owner="w", now=NOW - timedelta(days=90), error="x")
        uow.commit()
    with storage.unit_of_work() as uow:
        assert purge_finished_outbox(uow, now=NOW, retention=timedelta(days=30)) == 1
        uow.commit()
    with storage.unit_of_work() as uow:
        assert sorted(m.key for m in uow.outbox.find()) == ["dead", "pending", "recent"]
        with pytest.raises(ValidationError):
            purge_finished_outbox(uow, now=NOW, retention=timedelta(0))
