"""Events refuse what the contract forbids: bad payload values, bad envelopes, bad bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scaicontrol_core.errors import ValidationError
from scaicontrol_core.events import (
    BillingPeriod,
    ChangeKind,
    Envelope,
    OwnerKind,
    SubscriptionActivated,
    SubscriptionChanged,
    SubscriptionResumed,
    SubscriptionStatus,
    SubscriptionTrialEnding,
    TenantBillingUpdated,
    build_event,
    envelope_to_dict,
    envelope_to_json,
    monthly_recurring_cents,
    parse_envelope,
    payload_from_dict,
)
from scaicontrol_core.ids import SequentialIds

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

ACTIVATED: dict[str, Any] = {
    "subscription_id": "5b0c3d52-7d1e-4a8e-9c53-0c3f0f1d2e3a",
    "owner_kind": OwnerKind.TENANT,
    "tenant_id": "tnt_1",
    "partner_id": "prt_1",
    "scaicontrol_customer_id": "tnt_1",
    "service_id": "svc-1",
    "service_slug": "scaikey",
    "plan_id": "plan-1",
    "plan_key": "scaikey.starter",
    "plan_tier": "starter",
    "status": SubscriptionStatus.ACTIVE,
    "billing_period": BillingPeriod.MONTHLY,
    "currency": "EUR",
    "mrr_amount_cents": 1900,
    "quantity": 3,
    "trial_ends_at": None,
    "current_period_start": T0,
    "current_period_end": T0 + timedelta(days=31),
    "activated_at": T0,
}

CHANGED: dict[str, Any] = {
    "change_kind": ChangeKind.SCHEDULED_CANCELLATION,
    "subscription_id": "sub_1",
    "owner_kind": OwnerKind.PARTNER,
    "tenant_id": None,
    "partner_id": "prt_1",
    "scaicontrol_customer_id": "prt_1",
    "state": SubscriptionStatus.CANCELLING,
    "previous_state": SubscriptionStatus.ACTIVE,
    "plan_key": "scaikey.starter",
    "previous_plan_key": None,
    "quantity": None,
    "previous_quantity": None,
    "mrr_amount_cents": 0,
    "currency": "EUR",
    "pending_cancellation_at": T0 + timedelta(days=10),
    "current_period_end": T0 + timedelta(days=10),
    "changed_at": T0,
}


def test_the_base_samples_are_valid() -> None:
    """The samples the negative cases below start from are themselves accepted."""
    SubscriptionActivated(**ACTIVATED)
    SubscriptionChanged(**CHANGED)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tenant_id": None}, "tenant_id"),
        ({"scaicontrol_customer_id": "prt_1"}, "scaicontrol_customer_id"),
        ({"status": SubscriptionStatus.TRIALING}, "trial_ends_at"),
        ({"trial_ends_at": T0}, "trial_ends_at"),
        ({"status": SubscriptionStatus.PAST_DUE}, "status"),
        ({"status": "active"}, "status"),
        ({"mrr_amount_cents": -1}, "mrr_amount_cents"),
        ({"mrr_amount_cents": 19.0}, "mrr_amount_cents"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"plan_key": "starter"}, "plan_key"),
        ({"tenant_id": "usr_1"}, "tenant_id"),
        ({"activated_at": datetime(2026, 3, 1)}, None),
        ({"activated_at": "2026-03-01T00:00:00+00:00"}, "activated_at"),
        ({"subscription_id": "a:b"}, "subscription_id"),
    ],
)
def test_activated_refuses_values_outside_its_declaration(
    changes: dict[str, Any], field: str | None
) -> None:
    """Each broken field of subscription.activated raises a ValidationError naming it."""
    with pytest.raises(ValidationError) as caught:
        SubscriptionActivated(**{**ACTIVATED, **changes})
    if field is not None:
        assert caught.value.field == field


@pytest.mark.parametrize(
    "changes",
    [
        {"state": SubscriptionStatus.ACTIVE},
        {"pending_cancellation_at": None},
        {"change_kind": ChangeKind.SCHEDULED_CANCELLATION_UNDONE},
        {"change_kind": ChangeKind.PLAN_CHANGE, "pending_cancellation_at": None},
        {"change_kind": ChangeKind.QUANTITY_CHANGE, "pending_cancellation_at": None},
        {"owner_kind": OwnerKind.TENANT},
    ],
)
def test_changed_enforces_its_cross_field_rules(changes: dict[str, Any]) -> None:
    """Scheduled cancellations, undos, plan and quantity changes carry consistent fields."""
    with pytest.raises(ValidationError):
        SubscriptionChanged(**{**CHANGED, **changes})


def test_other_payload_rules() -> None:
    """Empty changed_fields, unusual trial thresholds and a non-active resume are refused."""
    with pytest.raises(ValidationError):
        TenantBillingUpdated(
            tenant_id="tnt_1",
            partner_id="prt_1",
            scaicontrol_customer_id="tnt_1",
            updated_at=T0,
            changed_fields=[],
            company_name=None,
            country_code=None,
            vat_number=None,
            contact_email=None,
        )
    with pytest.raises(ValidationError):
        SubscriptionTrialEnding(
            subscription_id="s",
            tenant_id=None,
            partner_id="prt_1",
            plan_key="a.b",
            trial_ends_at=T0,
            days_remaining=5,
        )
    with pytest.raises(ValidationError):
        SubscriptionResumed(
            subscription_id="s",
            tenant_id=None,
            partner_id="prt_1",
            plan_key="a.b",
            resumed_at=T0,
            state=SubscriptionStatus.SUSPENDED,
        )


@pytest.mark.parametrize(
    ("price", "period", "mrr"),
    [
        (1900, BillingPeriod.MONTHLY, 1900),
        (12000, BillingPeriod.YEARLY, 1000),
        (1000, BillingPeriod.YEARLY, 83),
        (1002, BillingPeriod.YEARLY, 84),
        (999, BillingPeriod.QUARTERLY, 333),
        (1000, BillingPeriod.QUARTERLY, 333),
        (1001, BillingPeriod.QUARTERLY, 334),
        (250, BillingPeriod.WEEKLY, 1000),
        (100, BillingPeriod.DAILY, 3000),
        (4999, BillingPeriod.ONE_TIME, 4999),
        (0, BillingPeriod.YEARLY, 0),
    ],
)
def test_mrr_normalisation(price: int, period: BillingPeriod, mrr: int) -> None:
    """Prices per period become monthly amounts, rounded half up to a cent."""
    assert monthly_recurring_cents(price, period) == mrr


def test_mrr_refuses_negative_and_fractional_prices() -> None:
    """Only non-negative integer cents are normalised."""
    for bad in (-1, 1.5, True):
        with pytest.raises(ValidationError):
            monthly_recurring_cents(bad, BillingPeriod.MONTHLY)  # type: ignore[arg-type]


# -- envelope ----------------------------------------------------------------------------------


def _envelope() -> Envelope:
    return build_event(SubscriptionActivated(**ACTIVATED), occurred_at=T0, ids=SequentialIds())


def _valid_kwargs() -> dict[str, Any]:
    envelope = _envelope()
    return {
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "occurred_at": envelope.occurred_at,
        "idempotency_key": envelope.idempotency_key,
        "data": envelope.data,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"event_id": "not-a-uuid"},
        {"event_id": "00000000-0000-1000-8000-000000000000"},
        {"event_id": "00000000-0000-4000-8000-00000000000A"},
        {"event_type": "subscription.changed"},
        {"event_type": "subscription.exploded"},
        {"event_version": "1"},
        {"source": "elsewhere"},
        {"occurred_at": datetime(2026, 3, 1)},
        {"idempotency_key": "subscription:other:activated:initial"},
        {"idempotency_key": "tenant:5b0c3d52-7d1e-4a8e-9c53-0c3f0f1d2e3a:activated:initial"},
        {"idempotency_key": "nonsense"},
    ],
)
def test_envelope_refuses_inconsistent_fields(changes: dict[str, Any]) -> None:
    """An envelope whose fields disagree with the contract or with its data is refused."""
    with pytest.raises(ValidationError):
        Envelope(**{**_valid_kwargs(), **changes})


def _body(mutate: Any) -> bytes:
    document = envelope_to_dict(_envelope())
    mutate(document)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"\xff\xfe",
        b'{"event_id": 1, "event_id": 2}',
        _body(lambda d: d.pop("data")),
        _body(lambda d: d.pop("source")),
        _body(lambda d: d.update(event_type="subscription.exploded")),
        _body(lambda d: d.update(event_version="2.0")),
        _body(lambda d: d.update(occurred_at="yesterday")),
        _body(lambda d: d.update(occurred_at="2026-03-01T09:30:00")),
        _body(lambda d: d.update(data=[])),
        _body(lambda d: d["data"].pop("plan_key")),
        _body(lambda d: d["data"].update(mrr_amount_cents="1900")),
        _body(lambda d: d["data"].update(quantity=True)),
        _body(lambda d: d["data"].update(status="exploded")),
        _body(lambda d: d["data"].update(mrr_amount_cents=float("nan"))),
    ],
)
def test_parse_refuses_invalid_bodies(body: bytes) -> None:
    """Malformed JSON, duplicate keys, NaN, unknown topics or versions and bad data all fail."""
    with pytest.raises(ValidationError):
        parse_envelope(body)


def test_parse_accepts_a_later_minor_version_with_extra_fields() -> None:
    """Consumers ignore unknown fields, so a 1.1 body with additions still parses."""
    body = _body(lambda d: (d.update(event_version="1.1"), d["data"].update(new_field=1)))
    envelope = parse_envelope(body)
    assert envelope.event_version == "1.1"
    assert envelope.data == SubscriptionActivated(**ACTIVATED)
    assert parse_envelope(body.decode()) == envelope


def test_payload_from_dict_structures_by_topic() -> None:
    """A stored data dict structures back into the topic's payload class."""
    data = envelope_to_dict(_envelope())["data"]
    assert payload_from_dict("subscription.activated", data) == SubscriptionActivated(**ACTIVATED)
    with pytest.raises(ValidationError):
        payload_from_dict("subscription.changed", data)


def test_rendering_is_deterministic_for_equal_envelopes() -> None:
    """Two equal envelopes render to identical bytes."""
    assert envelope_to_json(_envelope()) == envelope_to_json(_envelope())
