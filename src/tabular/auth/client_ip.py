"""The client's IP address and scheme: what the socket says, or what trusted proxies say they were."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from litestar.types import Scope

    IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SCOPE_KEY = "tabular.client_ip"


@lru_cache(maxsize=32)
def parse_networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The trusted proxy networks of the settings, parsed once."""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def client_ip(scope: Scope, trusted_proxies: tuple[str, ...]) -> str:
    """The peer address, unless the peer is a trusted proxy: then the right-most untrusted `X-Forwarded-For` hop.

    Hops are read right to left because each proxy appends the address it saw; everything left of the
    first untrusted hop could have been written by the client itself. A hop a trusted proxy wrote that is
    not an address (`unknown`, a name) ends the walk at that proxy: skipping it would reach a hop the
    client wrote. Proxies that add the port (`198.51.100.1:4711`, `[2001:db8::1]:443`) are understood.
    """
    cached = scope.get(_SCOPE_KEY)
    if isinstance(cached, str):
        return cached
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    networks = parse_networks(trusted_proxies)
    address = peer
    if networks and _is_trusted(peer, networks):
        for hop in reversed(_forwarded_for(scope)):
            parsed = _address_of(hop)
            if parsed is None:
                break  # the last trusted address is the best we know
            address = parsed
            if not _is_trusted(parsed, networks):
                break
    scope[_SCOPE_KEY] = address  # type: ignore[literal-required]
    return address


@lru_cache(maxsize=4096)
def rate_subject(address: str) -> str:
    """Who a per-address limit counts: the IPv4 address, or the /64 network of an IPv6 one.

    One IPv6 subscriber is routinely given a whole /64 (2^64 addresses); counting each address apart would
    let one client rotate through them and never be limited.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"ip:{address}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is an IPv4 client of a dual-stack socket
            return f"ip:{ip.ipv4_mapped}"
        return f"ip:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"ip:{ip}"


def from_trusted_proxy(scope: Scope, trusted_proxies: tuple[str, ...]) -> bool:
    """Whether the peer itself is one of the trusted proxies (what it says about the request can be believed)."""
    client = scope.get("client")
    networks = parse_networks(trusted_proxies)
    return bool(client and networks and _is_trusted(client[0], networks))


def is_https(scope: Scope, trusted_proxies: tuple[str, ...]) -> bool:
    """Whether the client reached us over TLS: directly, or through a trusted proxy that says so.

    `X-Forwarded-Proto` is believed only from a trusted proxy (anyone else could write it), and only its
    right-most value, the one that proxy wrote.
    """
    if scope.get("scheme") == "https":
        return True
    client = scope.get("client")
    networks = parse_networks(trusted_proxies)
    if not client or not networks or not _is_trusted(client[0], networks):
        return False
    protos = [
        value.decode("latin-1").rsplit(",", 1)[-1].strip().lower()
        for name, value in scope.get("headers", ())
        if name == b"x-forwarded-proto"
    ]
    return bool(protos) and protos[-1] == "https"


def _forwarded_for(scope: Scope) -> list[str]:
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops += [hop.strip() for hop in value.decode("latin-1").split(",")]
    return hops


def _address_of(hop: str) -> str | None:
    """The IP address a hop names, without a port or brackets; None when it names none."""
    candidates = [hop]
    if hop.startswith("[") and "]" in hop:  # [v6] or [v6]:port
        candidates = [hop[1 : hop.index("]")]]
    elif hop.count(":") == 1:  # v4:port (a bare IPv6 address has several colons)
        candidates = [hop.partition(":")[0]]
    for candidate in candidates:
        if _valid(candidate):
            return str(ipaddress.ip_address(candidate))
    return None


def _is_trusted(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
