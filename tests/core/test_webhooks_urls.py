"""Target URL safety: scheme, syntax and address checks against server-side request forgery."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_core.errors import ValidationError
from scaicontrol_core.webhooks import UrlPolicy, UrlProblem, address_problem, check_target_url

P = UrlProblem
PUBLIC_V4 = ["93.184.215.14"]
PUBLIC_V6 = ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
STRICT = UrlPolicy()
LAX = UrlPolicy(allow_http=True)

CASES: list[tuple[str, UrlPolicy, list[str] | None, UrlProblem | None]] = [
    # schemes
    ("https://hooks.example.com/in", STRICT, PUBLIC_V4, None),
    ("HTTPS://hooks.example.com/in", STRICT, PUBLIC_V4, None),
    ("http://hooks.example.com/in", STRICT, PUBLIC_V4, P.SCHEME),
    ("http://hooks.example.com/in", LAX, PUBLIC_V4, None),
    ("ftp://hooks.example.com/in", LAX, PUBLIC_V4, P.SCHEME),
    ("file:///etc/passwd", LAX, None, P.SCHEME),
    ("gopher://hooks.example.com/", LAX, PUBLIC_V4, P.SCHEME),
    ("javascript:alert(1)", LAX, None, P.SCHEME),
    ("//hooks.example.com/in", STRICT, PUBLIC_V4, P.SCHEME),
    ("hooks.example.com/in", STRICT, PUBLIC_V4, P.SCHEME),
    # syntax
    ("", STRICT, None, P.MALFORMED),
    ("https://hooks.example.com/a b", STRICT, PUBLIC_V4, P.MALFORMED),
    ("https://hooks.exa\tmple.com/", STRICT, PUBLIC_V4, P.MALFORMED),
    ("https://hooks.example.com\\@evil.test/", STRICT, PUBLIC_V4, P.MALFORMED),
    ("https://hööks.example.com/", STRICT, PUBLIC_V4, P.MALFORMED),
    ("https://hooks.example.com/" + "a" * 2048, STRICT, PUBLIC_V4, P.MALFORMED),
    ("https://user:pw@hooks.example.com/", STRICT, PUBLIC_V4, P.USERINFO),
    ("https://user@hooks.example.com/", STRICT, PUBLIC_V4, P.USERINFO),
    ("https://hooks.example.com@127.0.0.1/", STRICT, None, P.USERINFO),
    ("https:///in", STRICT, None, P.HOST),
    ("https://:443/in", STRICT, None, P.HOST),
    ("https://hooks.example.com:0/", STRICT, PUBLIC_V4, P.PORT),
    ("https://hooks.example.com:99999/", STRICT, PUBLIC_V4, P.PORT),
    ("https://hooks.example.com:https/", STRICT, PUBLIC_V4, P.PORT),
    ("https://hooks.example.com:8443/in", STRICT, PUBLIC_V4, None),
    ("https://hooks.example.com./in", STRICT, PUBLIC_V4, None),
    ("https://-bad-.example.com/", STRICT, PUBLIC_V4, P.HOST),
    ("https://a..b.example.com/", STRICT, PUBLIC_V4, P.HOST),
    ("https://[not-ipv6]/", STRICT, PUBLIC_V4, P.HOST),
    # numeric host forms a resolver might read as loopback
    ("https://127.1/", STRICT, ["127.0.0.1"], P.HOST),
    ("https://2130706433/", STRICT, ["127.0.0.1"], P.HOST),
    ("https://0x7f000001/", STRICT, ["127.0.0.1"], P.HOST),
    ("https://0177.0.0.1/", STRICT, ["127.0.0.1"], P.HOST),
    ("https://0x7f.0.0.1/", STRICT, ["127.0.0.1"], P.HOST),
    # names
    ("https://localhost/", STRICT, ["127.0.0.1"], P.LOOPBACK),
    ("https://api.localhost/", STRICT, PUBLIC_V4, P.LOOPBACK),
    ("https://hooks.example.com/", STRICT, [], P.UNRESOLVED),
    ("https://hooks.example.com/", STRICT, ["not-an-ip"], P.UNRESOLVED),
    ("https://hooks.example.com/", STRICT, None, None),
    # IPv4 literals and resolved addresses
    ("https://93.184.215.14/", STRICT, None, None),
    ("https://127.0.0.1/", STRICT, None, P.LOOPBACK),
    ("https://127.255.255.254/", STRICT, None, P.LOOPBACK),
    ("https://10.1.2.3/", STRICT, None, P.PRIVATE),
    ("https://172.16.0.1/", STRICT, None, P.PRIVATE),
    ("https://172.31.255.255/", STRICT, None, P.PRIVATE),
    ("https://172.32.0.1/", STRICT, None, None),
    ("https://192.168.1.1/", STRICT, None, P.PRIVATE),
    ("https://100.64.0.1/", STRICT, None, P.SHARED),
    ("https://100.127.255.254/", STRICT, None, P.SHARED),
    ("https://100.128.0.1/", STRICT, None, None),
    ("https://169.254.169.254/latest/meta-data/", STRICT, None, P.LINK_LOCAL),
    ("https://0.0.0.0/", STRICT, None, P.UNSPECIFIED),
    ("https://0.1.2.3/", STRICT, None, P.RESERVED),
    ("https://224.0.0.1/", STRICT, None, P.MULTICAST),
    ("https://239.255.255.250/", STRICT, None, P.MULTICAST),
    ("https://240.0.0.1/", STRICT, None, P.RESERVED),
    ("https://255.255.255.255/", STRICT, None, P.RESERVED),
    ("https://192.0.2.10/", STRICT, None, P.RESERVED),
    ("https://198.18.0.1/", STRICT, None, P.RESERVED),
    ("https://hooks.example.com/", STRICT, ["10.0.0.5"], P.PRIVATE),
    ("https://hooks.example.com/", STRICT, [*PUBLIC_V4, "127.0.0.1"], P.LOOPBACK),
    ("https://metadata.google.internal/", STRICT, ["169.254.169.254"], P.LINK_LOCAL),
    ("https://93.184.215.14/", STRICT, ["10.0.0.1"], P.PRIVATE),
    # IPv6
    ("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", STRICT, None, None),
    ("https://hooks.example.com/", STRICT, PUBLIC_V6, None),
    ("https://[::1]/", STRICT, None, P.LOOPBACK),
    ("https://[::]/", STRICT, None, P.UNSPECIFIED),
    ("https://[fc00::1]/", STRICT, None, P.PRIVATE),
    ("https://[fd12:3456:789a::1]/", STRICT, None, P.PRIVATE),
    ("https://[fe80::1]/", STRICT, None, P.LINK_LOCAL),
    ("https://[fe80::1%25eth0]/", STRICT, None, P.HOST),
    ("https://[fec0::1]/", STRICT, None, P.PRIVATE),
    ("https://[ff02::1]/", STRICT, None, P.MULTICAST),
    ("https://[2001:db8::1]/", STRICT, None, P.RESERVED),
    ("https://[3fff::1]/", STRICT, None, P.RESERVED),
    ("https://[100::1]/", STRICT, None, P.RESERVED),
    ("https://[2001::1]/", STRICT, None, P.TUNNEL),
    ("https://[2002:7f00:1::1]/", STRICT, None, P.TUNNEL),
    ("https://[::ffff:127.0.0.1]/", STRICT, None, P.LOOPBACK),
    ("https://[::ffff:169.254.169.254]/", STRICT, None, P.LINK_LOCAL),
    ("https://[::ffff:10.0.0.1]/", STRICT, None, P.PRIVATE),
    ("https://[::ffff:100.64.1.1]/", STRICT, None, P.SHARED),
    ("https://[::ffff:93.184.215.14]/", STRICT, None, None),
    ("https://[::127.0.0.1]/", STRICT, None, P.RESERVED),
    ("https://[64:ff9b::7f00:1]/", STRICT, None, P.LOOPBACK),
    ("https://[64:ff9b::5db8:d70e]/", STRICT, None, None),
    ("https://[64:ff9b:1::1]/", STRICT, None, P.PRIVATE),
    ("https://[4000::1]/", STRICT, None, P.RESERVED),
    ("https://hooks.example.com/", STRICT, ["::ffff:192.168.0.1"], P.PRIVATE),
    ("https://hooks.example.com/", STRICT, ["fe80::abcd"], P.LINK_LOCAL),
    # allowlist
    ("https://10.1.2.3/", UrlPolicy(allowlist=("10.0.0.0/8",)), None, None),
    ("https://10.1.2.3/", UrlPolicy(allowlist=("10.1.2.3",)), None, None),
    ("https://10.1.2.4/", UrlPolicy(allowlist=("10.1.2.3",)), None, P.PRIVATE),
    ("https://[::ffff:10.1.2.3]/", UrlPolicy(allowlist=("10.0.0.0/8",)), None, None),
    ("https://[fd00::5]/", UrlPolicy(allowlist=("fd00::/8",)), None, None),
    ("https://hooks.internal/", UrlPolicy(allowlist=("hooks.internal",)), ["10.0.0.9"], None),
    ("https://HOOKS.internal./", UrlPolicy(allowlist=("hooks.internal",)), ["10.0.0.9"], None),
    ("https://other.internal/", UrlPolicy(allowlist=("hooks.internal",)), ["10.0.0.9"], P.PRIVATE),
    ("https://localhost/", UrlPolicy(allowlist=("localhost",)), ["127.0.0.1"], None),
    ("http://10.1.2.3/", UrlPolicy(allowlist=("10.0.0.0/8",)), None, P.SCHEME),
    ("https://u@10.1.2.3/", UrlPolicy(allowlist=("10.0.0.0/8",)), None, P.USERINFO),
    (
        "https://svc.example.com/",
        UrlPolicy(allowlist=("10.0.0.0/8",)),
        ["10.0.0.1", "192.168.0.1"],
        P.PRIVATE,
    ),
]


@pytest.mark.parametrize(("url", "policy", "resolved", "problem"), CASES)
def test_url_safety_table(
    url: str, policy: UrlPolicy, resolved: list[str] | None, problem: UrlProblem | None
) -> None:
    """Each URL is allowed or refused for the listed reason."""
    verdict = check_target_url(url, policy, resolved)
    assert verdict.problem is problem, verdict.detail
    assert verdict.allowed is (problem is None)
    assert bool(verdict) is verdict.allowed


def test_resolved_ip_objects_are_accepted() -> None:
    """Resolved addresses may be ipaddress objects as well as strings."""
    loopback = ipaddress.ip_address("127.0.0.1")
    verdict = check_target_url("https://hooks.example.com/", STRICT, [loopback])
    assert verdict.problem is P.LOOPBACK


@pytest.mark.parametrize("entry", ["", "not a host!", "10.0.0.0/33", "a..b"])
def test_invalid_allowlist_entries_are_refused(entry: str) -> None:
    """A policy cannot be built from a malformed allowlist entry."""
    with pytest.raises(ValidationError):
        UrlPolicy(allowlist=(entry,))


def test_allowlist_must_be_a_list() -> None:
    """A bare string is not silently split into characters."""
    with pytest.raises(ValidationError):
        UrlPolicy(allowlist="10.0.0.0/8")  # type: ignore[arg-type]


@given(address=st.ip_addresses(v=4, network="10.0.0.0/8"))
def test_all_of_rfc1918_ten_is_private(address: ipaddress.IPv4Address) -> None:
    """Every address in 10.0.0.0/8, and its IPv4-mapped form, is private."""
    assert address_problem(address) is P.PRIVATE
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert address_problem(mapped) is P.PRIVATE


@given(address=st.ip_addresses(v=6, network="fe80::/10"))
def test_all_of_ipv6_link_local_is_refused(address: ipaddress.IPv6Address) -> None:
    """Every fe80::/10 address is link-local."""
    assert address_problem(address) is P.LINK_LOCAL


@given(address=st.ip_addresses())
def test_any_address_allowed_is_global(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    """No address passes unless Python also considers it globally reachable."""
    if address_problem(address) is None:
        assert address.is_global
