"""Topic patterns of webhook subscriptions: anchored wildcards over unversioned topic names."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_core.errors import ValidationError
from scaicontrol_core.events import Topic
from scaicontrol_core.webhooks import (
    matches_any,
    matching_topics,
    normalize_topic_pattern,
    topic_matches,
    validate_topic_patterns,
)

TABLE = [
    ("subscription.*", "subscription.activated", True),
    ("subscription.*", "subscription.payment_failed", True),
    ("subscription.*", "pack_subscription.activated", False),
    ("subscription.*", "subscription", False),
    ("*subscription.*", "pack_subscription.activated", True),
    ("*", "pack_subscription.cancelled", True),
    ("*", "tenant.billing_linked", True),
    ("subscription.activated", "subscription.activated", True),
    ("subscription.activated", "subscription.activated2", False),
    ("subscription.activated", "pack_subscription.activated", False),
    ("subscription.activated", "subscription.changed", False),
    ("subscription.activated.v1", "subscription.activated", True),
    ("subscription.*.v1", "subscription.cancelled", True),
    ("subscription.activated.v2", "subscription.activated", False),
    ("*.activated", "pack_subscription.activated", True),
    ("*.activated", "subscription.activated", True),
    ("*.activated", "subscription.changed", False),
    ("*billing*", "partner.billing_updated", True),
    ("tenant.billing_?inked", "tenant.billing_linked", True),
    ("tenant.billing_?", "tenant.billing_linked", False),
    ("subscription*", "subscription.resumed", True),
    ("Subscription.*", "subscription.activated", False),
    ("subscription.[a-z]*", "subscription.activated", False),
    ("subscription.[!x]*", "subscription.activated", False),
    ("", "subscription.activated", False),
    (" subscription.*", "subscription.activated", False),
    ("**", "tenant.billing_updated", True),
    ("*.*.*", "tenant.billing_updated", False),
]


@pytest.mark.parametrize(("pattern", "event_type", "expected"), TABLE)
def test_matching_table(pattern: str, event_type: str, expected: bool) -> None:
    """Whole-name wildcard matching, including the pack_subscription case."""
    assert topic_matches(pattern, event_type) is expected


def test_subscription_star_selects_exactly_the_seven_subscription_topics() -> None:
    """subscription.* covers the single-service topics and none of the pack topics."""
    assert [t.value for t in matching_topics("subscription.*")] == [
        "subscription.activated",
        "subscription.changed",
        "subscription.cancelled",
        "subscription.suspended",
        "subscription.resumed",
        "subscription.trial_ending",
        "subscription.payment_failed",
    ]


def test_star_selects_everything() -> None:
    """A bare * selects all fourteen topics."""
    assert matching_topics("*") == tuple(Topic)


@given(topic=st.sampled_from(Topic))
def test_exact_names_match_only_themselves(topic: Topic) -> None:
    """An exact topic name selects that one topic."""
    assert matching_topics(topic.value) == (topic,)
    assert matching_topics(topic.catalog_name) == (topic,)


@given(text=st.text(alphabet="ab*?.", max_size=12), name=st.text(alphabet="ab.", max_size=12))
def test_the_matcher_agrees_with_a_regex_model(text: str, name: str) -> None:
    """The two-pointer matcher gives the same answers as an anchored regex translation."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    expected = bool(text) and re.fullmatch(regex, name, re.DOTALL) is not None
    assert topic_matches(text, name) is expected


def test_matches_any_over_a_subscription_list() -> None:
    """A subscription receives an event when any of its patterns matches."""
    assert matches_any(["tenant.*", "pack_subscription.*"], "pack_subscription.changed")
    assert not matches_any(["tenant.*", "subscription.*"], "pack_subscription.changed")
    assert not matches_any([], "tenant.billing_linked")


def test_registration_normalises_and_deduplicates() -> None:
    """Version suffixes are dropped and repeated patterns collapse."""
    patterns = ["subscription.*.v1", "subscription.*", "tenant.billing_linked.v1"]
    assert validate_topic_patterns(patterns) == ("subscription.*", "tenant.billing_linked")
    assert normalize_topic_pattern("*.v1") == "*"


@pytest.mark.parametrize(
    "patterns",
    [
        [],
        ["subscription.activate"],
        ["invoice.*"],
        ["subscription.activated.v2"],
        ["subscription.[a-z]*"],
        ["Subscription.*"],
        ["subscription.* "],
        [""],
        "subscription.*",
        ["x" * 129],
    ],
)
def test_registration_refuses_useless_or_invalid_patterns(patterns: list[str]) -> None:
    """Empty lists, typos, unknown versions and unsupported syntax are refused."""
    with pytest.raises(ValidationError):
        validate_topic_patterns(patterns)
