"""Stored JSON is read back exactly as ``json.loads`` reads it, and written so that it reads
back as what ``json.dumps`` would have stored, faster where that is safe."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("orjson")

import orjson

from scaicontrol_adapters.storage.sqlalchemy.json_codec import dump_json, load_json
from scaicontrol_core.plain_json import is_plain
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


odd_documents = st.recursive(
    scalars | st.floats() | st.text(st.characters(codec=None, categories=["Cs"])),
    lambda inner: (st.lists(inner, max_size=5) | st.tuples(inner)
                   | st.dictionaries(st.text() | st.integers() | st.booleans(), inner,
                                     max_size=5)),
    max_leaves=30,
)


@given(odd_documents)
def test_written_json_reads_back_as_the_standard_library_would_store_it(value: Any) -> None:
    """Whatever is bound to a JSON column, its text reads back as ``json.dumps``'s does,
    NaN, lone surrogates, huge integers, tuples and non-string keys included."""
    text = dump_json(value)
    standard = json.dumps(value)
    back, expected = load_json(text), json.loads(standard)
    assert same(back, expected) or json.dumps(back) == json.dumps(expected)  # NaN != NaN


@given(documents)
def test_plain_documents_are_written_by_orjson(value: Any) -> None:
    """A plain document orjson can encode is written by it; anything else by json."""
    try:
        fast: str | None = orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        fast = None
    expected = fast if is_plain(value) and fast is not None else json.dumps(value)
    assert dump_json(value) == expected


@pytest.mark.parametrize(("value", "text"), [
    ({"a": [1, "é", None, True]}, '{"a":[1,"é",null,true]}'),
    ({"f": 0.5}, '{"f": 0.5}'),
    ({"n": float("nan")}, '{"n": NaN}'),
    ({1: "x"}, '{"1": "x"}'),
    ({"big": 2**64}, '{"big": 18446744073709551616}'),
    ({"t": (1, 2)}, '{"t": [1, 2]}'),
    ("just text", '"just text"'),
])
def test_which_encoder_writes_what(value: Any, text: str) -> None:
    """Plain documents by orjson (compact, UTF-8); everything else by ``json.dumps``."""
    assert dump_json(value) == text
