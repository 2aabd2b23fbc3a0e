"""Ids, clocks and the converter: the small pieces everything else stands on."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import cattrs
import pytest

from scaicontrol_core.clock import ManualClock, ensure_utc, isoformat
from scaicontrol_core.errors import ValidationError
from scaicontrol_core.ids import IdPrefix, RandomIds, SequentialIds, has_prefix, is_uuid
from scaicontrol_core.money import Money
from scaicontrol_core.serialization import make_converter


@pytest.mark.parametrize("prefix", list(IdPrefix))
def test_prefixed_ids_fit_the_id_columns(prefix: IdPrefix) -> None:
    """Prefixed ids start with the documented prefix and are 36 characters long."""
    for ids in (RandomIds(), SequentialIds()):
        value = ids.prefixed(prefix)
        assert value.startswith(prefix.value) and len(value) == 36
        assert has_prefix(value, prefix)


def test_uuids_are_canonical_and_random_ids_differ() -> None:
    """uuid() gives version-4 UUID strings; random ones do not repeat."""
    ids = RandomIds()
    values = {ids.uuid() for _ in range(200)}
    assert len(values) == 200 and all(is_uuid(v) and v[14] == "4" for v in values)
    assert not is_uuid("not-a-uuid") and not is_uuid("tnt_x")


def test_sequential_ids_are_predictable() -> None:
    """Two sequences from the same start produce the same ids in the same order."""
    a, b = SequentialIds(), SequentialIds()
    assert [a.prefixed(IdPrefix.TENANT), a.uuid()] == [b.prefixed(IdPrefix.TENANT), b.uuid()]
    assert a.prefixed(IdPrefix.TENANT).endswith("3")


def test_manual_clock_moves_forward_only() -> None:
    """A manual clock advances when told and refuses to go back or to take naive times."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = ManualClock(start)
    assert clock.advance(timedelta(days=1)) == start + timedelta(days=1)
    with pytest.raises(ValidationError):
        clock.set(start)
    with pytest.raises(ValidationError):
        ManualClock(datetime(2026, 1, 1))


def test_times_are_utc_with_explicit_offset() -> None:
    """Any aware datetime is shown in UTC with +00:00; naive ones are refused."""
    cet = timezone(timedelta(hours=1))
    assert isoformat(datetime(2026, 5, 10, 15, 32, 11, tzinfo=cet)) == "2026-05-10T14:32:11+00:00"
    with pytest.raises(ValidationError):
        ensure_utc(datetime(2026, 5, 10))


class Colour(enum.StrEnum):
    RED = "red"


@attrs.frozen(kw_only=True)
class Sample:
    name: str
    count: int
    flag: bool
    ratio: Decimal
    at: datetime
    price: Money
    colour: Colour
    note: str | None = None


def test_converter_round_trip() -> None:
    """Unstructure then structure gives the same value, in wire-friendly forms."""
    conv = make_converter()
    value = Sample(name="a", count=3, flag=True, ratio=Decimal("0.21"),
                   at=datetime(2026, 1, 1, tzinfo=UTC), price=Money(1999, "EUR"),
                   colour=Colour.RED)
    raw = conv.unstructure(value)
    assert raw["at"] == "2026-01-01T00:00:00+00:00"
    assert raw["ratio"] == "0.21" and raw["price"] == {"amount": 1999, "currency": "EUR"}
    assert conv.structure(raw, Sample) == value


@pytest.mark.parametrize(
    ("field", "bad"),
    [("name", 5), ("count", "3"), ("count", True), ("count", 2.5), ("flag", 1),
     ("ratio", "abc"), ("ratio", 0.1), ("at", "2026-01-01T00:00:00"), ("at", "yesterday"),
     ("price", {"amount": 1.5, "currency": "EUR"}), ("colour", "blue")],
)
def test_converter_is_strict(field: str, bad: object) -> None:
    """Wrong primitive types are refused instead of coerced."""
    raw = {"name": "a", "count": 3, "flag": True, "ratio": "1", "at": "2026-01-01T00:00:00+00:00",
           "price": {"amount": 1, "currency": "EUR"}, "colour": "red", field: bad}
    with pytest.raises(cattrs.BaseValidationError):
        make_converter().structure(raw, Sample)
