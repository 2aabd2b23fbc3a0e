"""The batch encoder stores exactly what SQLAlchemy's own column processors store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect

from scaicontrol_adapters.storage.sqlalchemy.bulk import encoder
from scaicontrol_adapters.storage.sqlalchemy.tables_webhooks import webhook_deliveries
from scaicontrol_core.errors import ValidationError
from scaicontrol_core.machines.delivery import DeliveryStatus
from scaicontrol_core.webhooks.model import WebhookDelivery

DIALECTS: list[Dialect] = [sqlite.dialect(), postgresql.psycopg.dialect(),  # type: ignore[no-untyped-call]
                           mysql.pymysql.dialect()]
NAMES = ("id", "status", "payload", "is_test", "next_attempt_at", "lease_expires_at",
         "created_at")
moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                  timezone(timedelta(hours=-8))]))


def delivery(at: datetime, next_at: datetime | None) -> WebhookDelivery:
    return WebhookDelivery(
        id="d1", subscription_id="s1", event_id="e1", event_type="subscription.changed",
        idempotency_key="k", payload={"a": [1, "é"]}, occurred_at=at,
        status=DeliveryStatus.PENDING, next_attempt_at=next_at, created_at=at, updated_at=at,
    )


def generic(dialect: Dialect, name: str, value: object) -> object:
    if isinstance(value, DeliveryStatus):
        value = value.value
    process = webhook_deliveries.c[name].type._cached_bind_processor(dialect)
    return value if process is None else process(value)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@given(at=moments, next_at=st.none() | moments)
def test_rows_match_the_column_processors(dialect: Dialect, at: datetime,
                                          next_at: datetime | None) -> None:
    record = delivery(at, next_at)
    [row] = encoder(dialect, webhook_deliveries, WebhookDelivery, NAMES)([record])
    expected = [generic(dialect, name, getattr(record, name)) for name in NAMES]
    assert [_plain(v) for v in row] == [_plain(v) for v in expected]


def _plain(value: object) -> object:
    """A driver's JSON wrapper (psycopg's ``Json``) compared by what it wraps."""
    return getattr(value, "obj", value)


@given(at=moments)
def test_json_rows_carry_utc_iso_text(at: datetime) -> None:
    """For PostgreSQL's JSON parameter: naive UTC ISO text, JSON embedded as it is."""
    dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
    [row] = encoder(dialect, webhook_deliveries, WebhookDelivery, NAMES, True)(
        [delivery(at, None)])
    utc = at.astimezone(UTC).replace(tzinfo=None)
    assert row == ["d1", "pending", {"a": [1, "é"]}, False, None, None, utc.isoformat()]
    assert datetime.fromisoformat(row[-1]) == utc


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_naive_datetimes_are_refused(dialect: Dialect) -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises((ValidationError, sa.exc.StatementError)):
        encoder(dialect, webhook_deliveries, WebhookDelivery, NAMES)([delivery(naive, None)])


def test_a_single_column_still_makes_rows() -> None:
    rows = encoder(sqlite.dialect(), webhook_deliveries, WebhookDelivery, ("status",))(
        [delivery(datetime(2026, 1, 1, tzinfo=UTC), None)])
    assert rows == [["pending"]]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_one_instant_in_two_timezones_is_stored_alike(dialect: Dialect) -> None:
    """The per-batch memo of converted instants gives equal instants the same stored
    value, whichever timezone each record used."""
    utc = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    local = utc.astimezone(timezone(timedelta(hours=2)))
    rows = encoder(dialect, webhook_deliveries, WebhookDelivery, NAMES)(
        [delivery(utc, local), delivery(local, utc)])
    expected = generic(dialect, "created_at", utc)
    assert {rows[0][-1], rows[0][4], rows[1][-1], rows[1][4]} == {expected}
