"""Derived ids are exactly the name-based UUIDs (version 5) of their natural keys."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_core.webhooks.model import DERIVED_ID_NAMESPACE, delivery_id_for, derived_id


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_derived_ids_are_uuid5_of_the_joined_parts(parts: list[str]) -> None:
    expected = str(uuid.uuid5(DERIVED_ID_NAMESPACE, "\x1f".join(parts)))
    assert derived_id(*parts) == expected
    assert uuid.UUID(expected).version == 5


def test_known_delivery_id_is_stable() -> None:
    """Pinned: stored deliveries keep their ids across releases."""
    assert delivery_id_for("sub_1", "subscription:abc:activated:1") == \
        "a72c90d4-5a21-5204-9192-9c7d74c063dc"
