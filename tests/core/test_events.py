"""Events: catalog, payload builders, envelope JSON, idempotency keys and outbox messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from scaicontrol_core.errors import ValidationError
from scaicontrol_core.events import (
    ENVELOPE_SCHEMA,
    PAYLOAD_TYPES,
    BillingPeriod,
    ChangeKind,
    Envelope,
    EventPayload,
    IdempotencyKey,
    OwnerKind,
    PackItem,
    PackSubscriptionActivated,
    PackSubscriptionCancelled,
    PackSubscriptionChanged,
    PartnerBillingLinked,
    PartnerBillingUpdated,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionChanged,
    SubscriptionPaymentFailed,
    SubscriptionResumed,
    SubscriptionStatus,
    SubscriptionSuspended,
    SubscriptionTrialEnding,
    SuspensionReason,
    TenantBillingLinked,
    TenantBillingUpdated,
    TerminalState,
    Topic,
    build_event,
    canonical_json,
    envelope_from_dict,
    envelope_to_dict,
    envelope_to_json,
    event_key,
    event_schema,
    idempotency_key,
    outbox_message,
    parse_envelope,
    stamp,
)
from scaicontrol_core.ids import SequentialIds

# -- strategies: one valid payload per topic ----------------------------------------------------

_ZONES = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
moments = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(_ZONES),
)
tenant_ids = st.from_regex(r"tnt_[A-Za-z0-9]{1,32}", fullmatch=True)
partner_ids = st.from_regex(r"prt_[A-Za-z0-9]{1,32}", fullmatch=True)
uuids = st.uuids(version=4).map(str)
texts = st.text(max_size=40)
maybe_texts = st.none() | texts
plan_keys = st.sampled_from(["scaikey.starter", "scaivault.pro", "scai-send.enterprise_2"])
currencies = st.sampled_from(["EUR", "USD", "GBP", "JPY", "BHD"])
countries = st.sampled_from(["NL", "DE", "BE", "FR"])
cents = st.integers(min_value=0, max_value=10**10)
fields = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True), min_size=1, max_size=4)
items = st.lists(st.builds(PackItem, subscription_id=uuids, plan_key=plan_keys), min_size=1)


@st.composite
def owners(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(OwnerKind))
    partner = draw(partner_ids)
    tenant = draw(tenant_ids) if kind is OwnerKind.TENANT else draw(st.none() | tenant_ids)
    customer = tenant if kind is OwnerKind.TENANT else partner
    return {
        "owner_kind": kind,
        "tenant_id": tenant,
        "partner_id": partner,
        "scaicontrol_customer_id": customer,
    }


@st.composite
def activated(draw: st.DrawFn) -> SubscriptionActivated:
    status = draw(st.sampled_from([SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING]))
    return SubscriptionActivated(
        subscription_id=draw(uuids),
        **draw(owners()),
        service_id=draw(uuids),
        service_slug=draw(st.sampled_from(["scaikey", "scai-vault"])),
        plan_id=draw(uuids),
        plan_key=draw(plan_keys),
        plan_tier=draw(st.none() | st.sampled_from(["trial", "pro"])),
        status=status,
        billing_period=draw(st.sampled_from(BillingPeriod)),
        currency=draw(currencies),
        mrr_amount_cents=draw(cents),
        quantity=draw(st.none() | st.integers(1, 1000)),
        trial_ends_at=draw(moments) if status is SubscriptionStatus.TRIALING else None,
        current_period_start=draw(st.none() | moments),
        current_period_end=draw(st.none() | moments),
        activated_at=draw(moments),
    )


@st.composite
def changed(draw: st.DrawFn) -> SubscriptionChanged:
    kind = draw(st.sampled_from(ChangeKind))
    cancelling = kind is ChangeKind.SCHEDULED_CANCELLATION
    state = (
        SubscriptionStatus.CANCELLING if cancelling else draw(st.sampled_from(SubscriptionStatus))
    )
    pending = draw(moments) if cancelling else None
    return SubscriptionChanged(
        change_kind=kind,
        subscription_id=draw(uuids),
        **draw(owners()),
        state=state,
        previous_state=draw(st.sampled_from(SubscriptionStatus)),
        plan_key=draw(plan_keys),
        previous_plan_key=draw(plan_keys)
        if kind is ChangeKind.PLAN_CHANGE
        else draw(st.none() | plan_keys),
        quantity=draw(st.none() | st.integers(1, 50)),
        previous_quantity=draw(st.integers(1, 50))
        if kind is ChangeKind.QUANTITY_CHANGE
        else draw(st.none() | st.integers(1, 50)),
        mrr_amount_cents=draw(cents),
        currency=draw(currencies),
        pending_cancellation_at=pending,
        current_period_end=draw(st.none() | moments),
        changed_at=draw(moments),
    )


@st.composite
def pack_activated(draw: st.DrawFn) -> PackSubscriptionActivated:
    status = draw(st.sampled_from([SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING]))
    return PackSubscriptionActivated(
        pack_subscription_id=draw(uuids),
        tenant_id=draw(tenant_ids),
        partner_id=draw(partner_ids),
        pack_id=draw(uuids),
        pack_slug="starter-pack",
        status=status,
        billing_period=draw(st.sampled_from(BillingPeriod)),
        currency=draw(currencies),
        mrr_amount_cents=draw(cents),
        items=draw(items),
        trial_ends_at=draw(moments) if status is SubscriptionStatus.TRIALING else None,
        activated_at=draw(moments),
    )


def _sub(**extra: Any) -> dict[str, Any]:
    return {
        "subscription_id": uuids,
        "tenant_id": st.none() | tenant_ids,
        "partner_id": partner_ids,
        "plan_key": plan_keys,
        **extra,
    }


def _pack(**extra: Any) -> dict[str, Any]:
    return {
        "pack_subscription_id": uuids,
        "tenant_id": tenant_ids,
        "partner_id": partner_ids,
        "pack_id": uuids,
        "pack_slug": st.just("starter-pack"),
        "currency": currencies,
        "mrr_amount_cents": cents,
        "items": items,
        **extra,
    }


@st.composite
def tenant_linked(draw: st.DrawFn) -> TenantBillingLinked:
    tenant = draw(tenant_ids)
    return TenantBillingLinked(
        tenant_id=tenant,
        partner_id=draw(partner_ids),
        scaicontrol_customer_id=tenant,
        linked_at=draw(moments),
        company_name=draw(maybe_texts),
        country_code=draw(st.none() | countries),
        vat_number=draw(st.none() | st.just("NL867406598B01")),
    )


@st.composite
def tenant_updated(draw: st.DrawFn) -> TenantBillingUpdated:
    tenant = draw(tenant_ids)
    return TenantBillingUpdated(
        tenant_id=tenant,
        partner_id=draw(partner_ids),
        scaicontrol_customer_id=tenant,
        updated_at=draw(moments),
        changed_fields=draw(fields),
        company_name=draw(maybe_texts),
        country_code=draw(st.none() | countries),
        vat_number=draw(st.none() | st.just("DE123456789")),
        contact_email=draw(st.none() | st.emails()),
    )


@st.composite
def partner_linked(draw: st.DrawFn) -> PartnerBillingLinked:
    partner = draw(partner_ids)
    return PartnerBillingLinked(
        partner_id=partner,
        scaicontrol_customer_id=partner,
        linked_at=draw(moments),
        legal_name=draw(texts.filter(bool)),
        country_code=draw(countries),
        vat_number=draw(st.none() | st.just("BE0123456789")),
    )


@st.composite
def partner_updated(draw: st.DrawFn) -> PartnerBillingUpdated:
    partner = draw(partner_ids)
    return PartnerBillingUpdated(
        partner_id=partner,
        scaicontrol_customer_id=partner,
        updated_at=draw(moments),
        changed_fields=draw(fields),
        legal_name=draw(maybe_texts),
        country_code=draw(st.none() | countries),
        vat_number=draw(st.none() | st.just("BE0123456789")),
    )


PAYLOADS: dict[Topic, st.SearchStrategy[Any]] = {
    Topic.TENANT_BILLING_LINKED: tenant_linked(),
    Topic.TENANT_BILLING_UPDATED: tenant_updated(),
    Topic.PARTNER_BILLING_LINKED: partner_linked(),
    Topic.PARTNER_BILLING_UPDATED: partner_updated(),
    Topic.SUBSCRIPTION_ACTIVATED: activated(),
    Topic.SUBSCRIPTION_CHANGED: changed(),
    Topic.SUBSCRIPTION_CANCELLED: st.builds(
        SubscriptionCancelled,
        **_sub(
            cancelled_at=moments,
            effective_immediately=st.booleans(),
            terminal_state=st.sampled_from(TerminalState),
            cancellation_reason=maybe_texts,
        ),
    ),
    Topic.SUBSCRIPTION_SUSPENDED: st.builds(
        SubscriptionSuspended,
        **_sub(
            suspended_at=moments,
            reason=st.sampled_from(SuspensionReason),
            previous_state=st.sampled_from(SubscriptionStatus),
        ),
    ),
    Topic.SUBSCRIPTION_RESUMED: st.builds(SubscriptionResumed, **_sub(resumed_at=moments)),
    Topic.SUBSCRIPTION_TRIAL_ENDING: st.builds(
        SubscriptionTrialEnding,
        **_sub(trial_ends_at=moments, days_remaining=st.sampled_from([7, 3, 1])),
    ),
    Topic.SUBSCRIPTION_PAYMENT_FAILED: st.builds(
        SubscriptionPaymentFailed,
        subscription_id=uuids,
        tenant_id=st.none() | tenant_ids,
        partner_id=partner_ids,
        invoice_id=st.none() | uuids,
        amount_cents=cents,
        currency=currencies,
        failure_reason=maybe_texts,
        past_due_since=moments,
        attempt=st.integers(1, 20),
        next_retry_at=st.none() | moments,
    ),
    Topic.PACK_SUBSCRIPTION_ACTIVATED: pack_activated(),
    Topic.PACK_SUBSCRIPTION_CHANGED: st.builds(
        PackSubscriptionChanged,
        **_pack(
            status=st.sampled_from(SubscriptionStatus),
            previous_status=st.sampled_from(SubscriptionStatus),
            changed_at=moments,
        ),
    ),
    Topic.PACK_SUBSCRIPTION_CANCELLED: st.builds(
        PackSubscriptionCancelled,
        **_pack(cancelled_at=moments, cancellation_reason=maybe_texts),
    ),
}
any_payload = st.sampled_from(list(Topic)).flatmap(lambda topic: PAYLOADS[topic])

T0 = datetime(2026, 5, 10, 14, 32, 11, tzinfo=UTC)


def _event(payload: EventPayload, at: datetime = T0) -> Envelope:
    return build_event(payload, occurred_at=at, ids=SequentialIds())


# -- catalog ------------------------------------------------------------------------------------

SPEC_TOPICS = [
    "tenant.billing_linked",
    "tenant.billing_updated",
    "partner.billing_linked",
    "partner.billing_updated",
    "subscription.activated",
    "subscription.changed",
    "subscription.cancelled",
    "subscription.suspended",
    "subscription.resumed",
    "subscription.trial_ending",
    "subscription.payment_failed",
    "pack_subscription.activated",
    "pack_subscription.changed",
    "pack_subscription.cancelled",
]


def test_the_catalog_has_exactly_the_fourteen_documented_topics() -> None:
    """Topic values are the 14 wire event types, in catalog order."""
    assert [topic.value for topic in Topic] == SPEC_TOPICS


def test_catalog_names_carry_the_major_version() -> None:
    """The versioned catalog name appends .v1 to the event type."""
    assert [topic.catalog_name for topic in Topic] == [f"{name}.v1" for name in SPEC_TOPICS]


def test_every_topic_has_its_own_payload_class() -> None:
    """Each topic maps to a distinct payload class whose TOPIC points back at it."""
    assert set(PAYLOAD_TYPES) == set(Topic)
    assert len(set(PAYLOAD_TYPES.values())) == len(Topic)
    assert all(cls.TOPIC is topic for topic, cls in PAYLOAD_TYPES.items())


def test_every_topic_has_a_strategy_in_this_module() -> None:
    """The property tests below cover every topic."""
    assert set(PAYLOADS) == set(Topic)


# -- envelope and JSON --------------------------------------------------------------------------


@given(payload=any_payload, occurred_at=moments)
def test_envelope_json_round_trips(payload: EventPayload, occurred_at: datetime) -> None:
    """Parsing the rendered bytes gives back an equal envelope, and re-rendering is stable."""
    envelope = _event(payload, occurred_at)
    body = envelope_to_json(envelope)
    parsed = parse_envelope(body)
    assert parsed == envelope
    assert envelope_to_json(parsed) == body
    assert envelope_from_dict(envelope_to_dict(envelope)) == envelope


@given(payload=any_payload)
def test_the_body_is_compact_sorted_utf8_json(payload: EventPayload) -> None:
    """The body equals a sorted, compact, UTF-8 dump of its own parse."""
    body = envelope_to_json(_event(payload))
    document = json.loads(body)
    expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert body == expected.encode("utf-8")
    assert list(document) == sorted(document)


@given(payload=any_payload)
def test_every_builder_output_validates_against_its_schemas(payload: EventPayload) -> None:
    """A built envelope validates against its topic schema and the generic envelope schema."""
    document = json.loads(envelope_to_json(_event(payload)))
    schema = event_schema(payload.TOPIC)
    Draft202012Validator(schema).validate(document)
    Draft202012Validator(ENVELOPE_SCHEMA).validate(document)
    assert set(document) == set(schema["properties"])
    assert set(document["data"]) == set(schema["properties"]["data"]["properties"])


@given(payload=any_payload)
def test_the_schema_rejects_a_body_missing_any_data_field(payload: EventPayload) -> None:
    """Every data field is required by the schema."""
    document = json.loads(envelope_to_json(_event(payload)))
    validator = Draft202012Validator(event_schema(payload.TOPIC))
    for name in list(document["data"]):
        broken = json.loads(json.dumps(document))
        del broken["data"][name]
        assert not validator.is_valid(broken), name


def test_the_envelope_fields_are_the_documented_seven() -> None:
    """An envelope dict holds exactly the documented fields with their constant values."""
    envelope = _event(_trial_ending())
    document = envelope_to_dict(envelope)
    assert list(document) == [
        "event_id",
        "event_type",
        "event_version",
        "occurred_at",
        "source",
        "idempotency_key",
        "data",
    ]
    assert document["event_version"] == "1.0"
    assert document["source"] == "scaicontrol"
    assert document["occurred_at"] == "2026-05-10T14:32:11+00:00"
    assert document["event_type"] == "subscription.trial_ending"


def test_occurred_at_is_normalised_to_utc_on_the_wire() -> None:
    """A non-UTC occurred_at is sent as the same instant with +00:00."""
    local = T0.astimezone(timezone(timedelta(hours=2)))
    document = envelope_to_dict(_event(_trial_ending(), local))
    assert document["occurred_at"] == "2026-05-10T14:32:11+00:00"


def test_builders_take_ids_from_the_factory() -> None:
    """The event id comes from the id factory, so equal factories give equal envelopes."""
    first = build_event(_trial_ending(), occurred_at=T0, ids=SequentialIds(7))
    second = build_event(_trial_ending(), occurred_at=T0, ids=SequentialIds(7))
    assert first == second
    assert first.event_id == "00000000-0000-4000-8000-000000000007"


def test_non_ascii_text_is_sent_as_utf8() -> None:
    """Non-ASCII characters appear as UTF-8 bytes, not \\u escapes."""
    payload = TenantBillingLinked(
        tenant_id="tnt_1",
        partner_id="prt_1",
        scaicontrol_customer_id="tnt_1",
        linked_at=T0,
        company_name="Société Générale",
        country_code="FR",
        vat_number=None,
    )
    assert "Société".encode() in envelope_to_json(_event(payload))


def test_canonical_json_refuses_nan() -> None:
    """NaN has no JSON form and is refused."""
    with pytest.raises(ValidationError):
        canonical_json({"x": float("nan")})


# -- idempotency keys and outbox ------------------------------------------------------------------


def _trial_ending(days: int = 7, **changes: Any) -> SubscriptionTrialEnding:
    values: dict[str, Any] = {
        "subscription_id": "sub_abc",
        "tenant_id": "tnt_1",
        "partner_id": "prt_1",
        "plan_key": "scaikey.starter",
        "trial_ends_at": T0 + timedelta(days=days),
        "days_remaining": days,
    }
    values.update(changes)
    return SubscriptionTrialEnding(**values)


def test_the_documented_key_example_is_reproduced() -> None:
    """idempotency_key builds subscription:sub_abc:activated:initial from its four parts."""
    key = idempotency_key("subscription", "sub_abc", "activated", "initial")
    assert key == "subscription:sub_abc:activated:initial"
    assert str(IdempotencyKey.parse(key)) == key


@given(payload=any_payload)
def test_the_key_depends_only_on_the_payload(payload: EventPayload) -> None:
    """Two builds of one logical event share key and outbox key but not event id."""
    first = build_event(payload, occurred_at=T0, ids=SequentialIds(1))
    second = build_event(payload, occurred_at=T0 + timedelta(hours=1), ids=SequentialIds(99))
    assert first.event_id != second.event_id
    assert first.idempotency_key == second.idempotency_key == event_key(payload)
    assert outbox_message(first).key == outbox_message(second).key
    key = IdempotencyKey.parse(first.idempotency_key)
    assert key.resource_type == payload.TOPIC.resource.value
    assert key.event == payload.TOPIC.event
    assert key.resource_id == payload.resource_id


STEP_CASES: list[tuple[Callable[[], EventPayload], str]] = [
    (lambda: _trial_ending(7), "subscription:sub_abc:trial_ending:7d"),
    (lambda: _trial_ending(1), "subscription:sub_abc:trial_ending:1d"),
    (
        lambda: SubscriptionResumed(
            subscription_id="sub_abc",
            tenant_id=None,
            partner_id="prt_1",
            plan_key="scaikey.pro",
            resumed_at=datetime(2026, 6, 1, tzinfo=UTC),
        ),
        "subscription:sub_abc:resumed:20260601T000000Z",
    ),
    (
        lambda: PartnerBillingUpdated(
            partner_id="prt_9",
            scaicontrol_customer_id="prt_9",
            updated_at=datetime(2026, 5, 12, 15, 22, 0, 250000, tzinfo=UTC),
            changed_fields=["legal_name"],
            legal_name="X",
            country_code="NL",
            vat_number=None,
        ),
        "partner:prt_9:billing_updated:20260512T152200.250000Z",
    ),
]


@pytest.mark.parametrize(("make", "expected"), STEP_CASES)
def test_lifecycle_steps_follow_the_documented_choices(
    make: Callable[[], EventPayload], expected: str
) -> None:
    """Keys combine resource, event part and the topic's lifecycle step."""
    assert event_key(make()) == expected


def test_stamp_is_colon_free_utc() -> None:
    """stamp() renders any aware instant in UTC basic form."""
    moment = datetime(2026, 6, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert stamp(moment) == "20260601T000000Z"


@pytest.mark.parametrize(
    "parts",
    [
        ("subscription", "sub:abc", "activated", "initial"),
        ("", "sub_abc", "activated", "initial"),
        ("subscription", "sub_abc", "activated", ""),
        ("subscription", "sub abc", "activated", "initial"),
    ],
)
def test_malformed_key_parts_are_refused(parts: tuple[str, str, str, str]) -> None:
    """Colons, spaces and empty parts cannot appear where they would break parsing."""
    with pytest.raises(ValidationError):
        idempotency_key(*parts)


def test_the_outbox_message_records_the_event_once_by_key() -> None:
    """outbox_message carries kind, topic, key, envelope dict, occurred_at and tenant."""
    envelope = _event(_trial_ending())
    message = outbox_message(envelope)
    assert message.kind == "event"
    assert message.topic == "subscription.trial_ending"
    assert message.key == envelope.idempotency_key
    assert message.payload == envelope_to_dict(envelope)
    assert message.created_at == envelope.occurred_at
    assert message.tenant_id == "tnt_1"
    assert canonical_json(message.payload) == envelope_to_json(envelope)


def test_partner_events_have_no_tenant_scope() -> None:
    """A partner billing event is not scoped to a tenant in the outbox."""
    payload = PartnerBillingLinked(
        partner_id="prt_1",
        scaicontrol_customer_id="prt_1",
        linked_at=T0,
        legal_name="Servantus B.V.",
        country_code="NL",
        vat_number=None,
    )
    assert outbox_message(_event(payload)).tenant_id is None
