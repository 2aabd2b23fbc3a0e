"""Stored JSON is read back exactly as ``json.loads`` reads it, faster where that is safe."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("orjson")

from scaicontrol_adapters.storage.sqlalchemy.json_codec import load_json
from scaicontrol_core.testing.webhook_storage_contract import delivery

if TYPE_CHECKING:
    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage

scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(st.characters(codec=None)))
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types, all the way down (and -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


@given(documents, st.booleans())
def test_any_json_text_reads_as_the_standard_library_reads_it(
    value: Any, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert same(load_json(text), json.loads(text))
    if ascii_only:
        assert same(load_json(text.encode()), json.loads(text))


@pytest.mark.parametrize("text", [
    '{"n": 18446744073709551617}', '[-9223372036854775809]', '[NaN, Infinity]',
    '["\\ud800"]', '[1e400]', '{"a": 1, "a": 2}', '[12345678901234567890.5]',
])
def test_texts_orjson_would_read_differently_or_refuse(text: str) -> None:
    assert same(load_json(text), json.loads(text)) or math.isnan(json.loads(text)[0])


def test_big_integers_come_back_exactly_from_the_database(
    sql_storage: SqlAlchemyStorage
) -> None:
    payload = {"event_id": "e", "data": {"big": 2**64 + 3, "low": -(2**63) - 5, "f": 0.1}}
    with sql_storage.unit_of_work(cross_tenant=True) as uow:
        assert uow.webhook_deliveries.add_many([delivery(1, payload=payload)]) == 1
        uow.commit()
    with sql_storage.unit_of_work(cross_tenant=True) as uow:
        stored = uow.webhook_deliveries.get(delivery(1).id)
    assert stored is not None and same(dict(stored.payload), payload)
