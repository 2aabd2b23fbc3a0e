"""Is a subscriber's ``target_url`` safe to POST to? A pure check against SSRF.

The caller resolves the host name (the core does no I/O) and passes every address it got;
the dispatcher must then connect to one of exactly those addresses, so that a second DNS
answer cannot swap in an internal address after the check.

Rules, in order:

1. The URL is printable ASCII without spaces or backslashes, at most 2048 characters.
2. The scheme is ``https``; ``http`` only when the policy allows it. Nothing else.
3. No user information (``user:pass@``), a host is present, the port (if any) is 1-65535.
4. The host is an IP literal (no IPv6 zone id) or a syntactically valid DNS name that does
   not look numeric (``127.1``, ``0x7f.1`` and ``2130706433`` are refused rather than left
   to a resolver's interpretation); ``localhost`` and ``*.localhost`` are loopback.
5. Every address (the literal, or each resolved one) must be globally routable. Refused:
   unspecified, loopback, private (RFC 1918, ``fc00::/7``, ``fec0::/10``), CGNAT
   ``100.64.0.0/10``, link-local (``169.254.0.0/16`` with the cloud metadata endpoint,
   ``fe80::/10``), multicast, documentation/benchmark/reserved ranges, tunnel prefixes
   (Teredo, 6to4) and all IPv6 outside ``2000::/3``. IPv4-mapped (``::ffff:a.b.c.d``) and
   NAT64 (``64:ff9b::a.b.c.d``) addresses are judged by the IPv4 address they carry.
6. An allowlist entry lifts rule 4's loopback-name check and rule 5: a host name entry
   trusts that name whatever it resolves to; an IP or CIDR entry trusts those addresses.
   Nothing lifts rules 1-3.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable, Sequence
from typing import Final
from urllib.parse import urlsplit

import attrs

from ..errors import ValidationError

__all__ = ["UrlPolicy", "UrlProblem", "UrlVerdict", "address_problem", "check_target_url"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAX_URL_LENGTH: Final = 2048
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?", re.ASCII)
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*", re.ASCII)


class UrlProblem(enum.StrEnum):
    MALFORMED = "malformed"
    SCHEME = "scheme"
    USERINFO = "userinfo"
    HOST = "host"
    PORT = "port"
    UNRESOLVED = "unresolved"
    UNSPECIFIED = "unspecified"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    SHARED = "shared"
    LINK_LOCAL = "link_local"
    MULTICAST = "multicast"
    RESERVED = "reserved"
    TUNNEL = "tunnel"


P = UrlProblem
_BLOCKED: Final[tuple[tuple[IPNetwork, UrlProblem], ...]] = tuple(
    (ipaddress.ip_network(network), problem)
    for network, problem in (
        ("0.0.0.0/32", P.UNSPECIFIED),
        ("0.0.0.0/8", P.RESERVED),
        ("10.0.0.0/8", P.PRIVATE),
        ("100.64.0.0/10", P.SHARED),
        ("127.0.0.0/8", P.LOOPBACK),
        ("169.254.0.0/16", P.LINK_LOCAL),
        ("172.16.0.0/12", P.PRIVATE),
        ("192.0.0.0/24", P.RESERVED),
        ("192.0.2.0/24", P.RESERVED),
        ("192.88.99.0/24", P.RESERVED),
        ("192.168.0.0/16", P.PRIVATE),
        ("198.18.0.0/15", P.RESERVED),
        ("198.51.100.0/24", P.RESERVED),
        ("203.0.113.0/24", P.RESERVED),
        ("224.0.0.0/4", P.MULTICAST),
        ("240.0.0.0/4", P.RESERVED),
        ("::/128", P.UNSPECIFIED),
        ("::1/128", P.LOOPBACK),
        ("64:ff9b:1::/48", P.PRIVATE),
        ("2001::/32", P.TUNNEL),
        ("2001::/23", P.RESERVED),
        ("2001:db8::/32", P.RESERVED),
        ("2002::/16", P.TUNNEL),
        ("3fff::/20", P.RESERVED),
        ("fc00::/7", P.PRIVATE),
        ("fec0::/10", P.PRIVATE),
        ("fe80::/10", P.LINK_LOCAL),
        ("ff00::/8", P.MULTICAST),
    )
)
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_GLOBAL_UNICAST: Final = ipaddress.IPv6Network("2000::/3")


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: IPAddress) -> UrlProblem | None:
    """Why ``address`` is not a safe webhook destination, or ``None`` if it is global."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_problem(embedded)
    for network, problem in _BLOCKED:
        if address.version == network.version and address in network:
            return problem
    if isinstance(address, ipaddress.IPv6Address) and address not in _GLOBAL_UNICAST:
        return P.RESERVED
    if not address.is_global:  # whatever this Python's registry adds on top of the table
        return P.RESERVED
    return None


def _parse_allow_entry(entry: str) -> IPNetwork | str:
    if not isinstance(entry, str) or not entry.strip():
        raise ValidationError("allowlist entries must be non-empty strings", field="allowlist")
    text = entry.strip().lower()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        pass
    name = text.removesuffix(".")
    if not _valid_hostname(name):
        raise ValidationError(f"{entry!r} is not a host name, IP or CIDR", field="allowlist")
    return name


def _allowlist(entries: Iterable[str]) -> tuple[str, ...]:
    if isinstance(entries, str):
        raise ValidationError("allowlist must be a list of entries", field="allowlist")
    values = tuple(entries)
    for entry in values:
        _parse_allow_entry(entry)
    return values


@attrs.frozen(kw_only=True)
class UrlPolicy:
    """Settings of the check: plain http allowed or not, and trusted hosts/IPs/CIDRs."""

    allow_http: bool = False
    allowlist: tuple[str, ...] = attrs.field(default=(), converter=_allowlist)

    def trusts_host(self, host: str) -> bool:
        return any(_parse_allow_entry(entry) == host for entry in self.allowlist)

    def trusts_address(self, address: IPAddress) -> bool:
        candidates = [address]
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            candidates.append(embedded)
        for entry in self.allowlist:
            network = _parse_allow_entry(entry)
            if isinstance(network, str):
                continue
            if any(c.version == network.version and c in network for c in candidates):
                return True
        return False


@attrs.frozen(kw_only=True)
class UrlVerdict:
    """The outcome; ``problem`` is ``None`` exactly when ``allowed``."""

    allowed: bool
    problem: UrlProblem | None
    detail: str

    def __bool__(self) -> bool:
        return self.allowed


def _refuse(problem: UrlProblem, detail: str) -> UrlVerdict:
    return UrlVerdict(allowed=False, problem=problem, detail=detail)


def _valid_hostname(name: str) -> bool:
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    return all(_LABEL.fullmatch(label) for label in labels)


def _numeric_looking(name: str) -> bool:
    labels = name.split(".")
    return labels[-1].isdigit() or all(_NUMERIC_LABEL.fullmatch(label) for label in labels)


def _to_address(value: str | IPAddress) -> IPAddress | None:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _syntax(url: str, policy: UrlPolicy) -> tuple[str, IPAddress | None] | UrlVerdict:
    if not isinstance(url, str) or not url:
        return _refuse(P.MALFORMED, "the URL is empty")
    if len(url) > _MAX_URL_LENGTH:
        return _refuse(P.MALFORMED, f"the URL is longer than {_MAX_URL_LENGTH} characters")
    if not url.isascii() or not url.isprintable() or " " in url or "\\" in url:
        return _refuse(P.MALFORMED, "the URL must be printable ASCII without spaces or '\\'")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        message = str(exc).lower()
        kind = P.PORT if "port" in message else P.HOST if "ipv" in message else P.MALFORMED
        return _refuse(kind, str(exc))
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and policy.allow_http):
        allowed = "https or http" if policy.allow_http else "https"
        return _refuse(P.SCHEME, f"scheme {parts.scheme!r} is not allowed; use {allowed}")
    if "@" in parts.netloc:
        return _refuse(P.USERINFO, "credentials in the URL are not allowed")
    host = parts.hostname
    if not host:
        return _refuse(P.HOST, "the URL has no host")
    if port == 0:
        return _refuse(P.PORT, "port 0 is not allowed")
    if "%" in host:
        return _refuse(P.HOST, "IPv6 zone identifiers are not allowed")
    literal = _to_address(host)
    if literal is not None:
        return host, literal
    if parts.netloc.startswith("["):
        return _refuse(P.HOST, f"{host!r} is not an IPv6 address")
    name = host.removesuffix(".")
    if not _valid_hostname(name):
        return _refuse(P.HOST, f"{host!r} is not a valid host name")
    if _numeric_looking(name):
        return _refuse(P.HOST, f"{host!r} looks like a numeric address in a non-standard form")
    return name, None


def check_target_url(
    url: str,
    policy: UrlPolicy,
    resolved: Sequence[str | IPAddress] | None = None,
) -> UrlVerdict:
    """Decide whether ``url`` may receive webhooks.

    ``resolved`` lists the addresses the host name resolved to. ``None`` means "not resolved
    yet" (a registration-time check): name-based URLs then pass on syntax alone, and the
    check must be repeated with real addresses before connecting. An empty list is refused.
    """
    outcome = _syntax(url, policy)
    if isinstance(outcome, UrlVerdict):
        return outcome
    host, literal = outcome
    if literal is None and policy.trusts_host(host):
        return UrlVerdict(allowed=True, problem=None, detail=f"{host} is allowlisted")
    if literal is None and (host == "localhost" or host.endswith(".localhost")):
        return _refuse(P.LOOPBACK, f"{host} is a loopback name")
    addresses: list[IPAddress] = [] if literal is None else [literal]
    if resolved is None and literal is None:
        return UrlVerdict(allowed=True, problem=None, detail="syntax ok; addresses not checked")
    for value in resolved or ():
        address = _to_address(value)
        if address is None:
            return _refuse(P.UNRESOLVED, f"{value!r} is not an IP address")
        addresses.append(address)
    if not addresses:
        return _refuse(P.UNRESOLVED, f"{host} did not resolve to any address")
    for address in addresses:
        problem = address_problem(address)
        if problem is not None and not policy.trusts_address(address):
            return _refuse(problem, f"{address} is {problem.value.replace('_', '-')}")
    return UrlVerdict(allowed=True, problem=None, detail="ok")
