"""The public currency lookups, and the pagination arithmetic they exercise."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scaicontrol_core.currencies import CURRENCY_NAMES

LIST = "/api/v1/lookups/currencies"
TOTAL = len(CURRENCY_NAMES)


def test_default_page_is_the_first_twenty_sorted_by_code(client: Any) -> None:
    """Without parameters the first 20 currencies come back, ordered by code."""
    body = client.get(LIST).json()
    codes = [item["code"] for item in body["data"]]
    assert codes == sorted(CURRENCY_NAMES)[:20]
    assert body["pagination"] == {
        "page": 1,
        "page_size": 20,
        "total": TOTAL,
        "total_pages": math.ceil(TOTAL / 20),
    }
    assert set(body) == {"data", "pagination", "meta"}


def test_last_page_holds_the_remainder(client: Any) -> None:
    """The last page has total - (pages - 1) * page_size items."""
    pages = math.ceil(TOTAL / 7)
    body = client.get(LIST, params={"page": pages, "page_size": 7}).json()
    assert len(body["data"]) == TOTAL - (pages - 1) * 7
    assert body["pagination"]["total_pages"] == pages
    assert body["data"][-1]["code"] == max(CURRENCY_NAMES)


def test_page_beyond_the_end_is_empty_with_true_totals(client: Any) -> None:
    """Asking past the last page returns no items but the real total and page count."""
    body = client.get(LIST, params={"page": 999, "page_size": 100}).json()
    assert body["data"] == []
    assert body["pagination"] == {
        "page": 999,
        "page_size": 100,
        "total": TOTAL,
        "total_pages": math.ceil(TOTAL / 100),
    }


def test_pages_partition_the_whole_list(client: Any) -> None:
    """Walking every page of size 30 yields each currency exactly once."""
    seen: list[str] = []
    for page in range(1, math.ceil(TOTAL / 30) + 1):
        body = client.get(LIST, params={"page": page, "page_size": 30}).json()
        seen += [item["code"] for item in body["data"]]
    assert seen == sorted(CURRENCY_NAMES)


@pytest.mark.parametrize(("q", "expected"), [("euro", "EUR"), ("eUr", "EUR"), ("yen", "JPY")])
def test_q_filters_code_or_name_case_insensitively(client: Any, q: str, expected: str) -> None:
    """q matches a substring of the code or the name, ignoring case."""
    codes = [item["code"] for item in client.get(LIST, params={"q": q}).json()["data"]]
    assert expected in codes
    for code in codes:
        assert q.lower() in code.lower() or q.lower() in CURRENCY_NAMES[code].lower()


def test_no_match_gives_zero_totals(client: Any) -> None:
    """A filter matching nothing reports total 0 and total_pages 0."""
    body = client.get(LIST, params={"q": "zzzz"}).json()
    assert body["data"] == []
    assert body["pagination"]["total"] == 0 and body["pagination"]["total_pages"] == 0


def test_lookup_by_code_accepts_any_case(client: Any) -> None:
    """GET /lookups/currencies/jpy answers with JPY and its zero minor units."""
    body = client.get(f"{LIST}/jpy").json()
    assert body["data"] == {"code": "JPY", "name": "Yen", "minor_units": 0}


def test_unknown_code_is_not_found_in_the_spec_style(client: Any) -> None:
    """An unknown but well-formed code is 404 "Currency 'XYZ' not found"."""
    reply = client.get(f"{LIST}/xyz")
    assert reply.status == 404
    assert reply.json()["error"]["message"] == "Currency 'XYZ' not found"


@pytest.mark.parametrize("code", ["EU", "EURO", "E1R", "%20EU"])
def test_malformed_code_is_422_on_the_path(client: Any, code: str) -> None:
    """A code that is not three letters fails validation at ['path', 'code']."""
    reply = client.get(f"{LIST}/{code}")
    assert reply.status == 422
    (issue,) = reply.json()["detail"]
    assert issue["loc"] == ["path", "code"]
    assert issue["type"] == "string_pattern_mismatch"
