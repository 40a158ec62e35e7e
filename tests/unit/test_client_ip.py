"""Which address a request is counted against: the peer, or what trusted proxies forwarded."""

from __future__ import annotations

from typing import Any

import pytest

from tabular.auth.client_ip import client_ip, rate_subject


def scope(peer: str, *forwarded: str) -> Any:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": (peer, 50000), "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", [], (), "203.0.113.9"),
        # an untrusted peer's header is ignored: anyone can write X-Forwarded-For
        ("203.0.113.9", ["198.51.100.1"], (), "203.0.113.9"),
        ("203.0.113.9", ["198.51.100.1"], ("10.0.0.0/8",), "203.0.113.9"),
        # behind one trusted proxy: the address it saw
        ("10.0.0.5", ["198.51.100.1"], ("10.0.0.0/8",), "198.51.100.1"),
        # a client that prepends a fake hop does not change what the trusted proxy appended
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1"], ("10.0.0.0/8",), "198.51.100.1"),
        # two trusted proxies in a chain: the right-most untrusted hop
        ("10.0.0.5", ["198.51.100.1, 10.0.0.7"], ("10.0.0.0/8",), "198.51.100.1"),
        # several header lines are one list
        ("10.0.0.5", ["6.6.6.6", "198.51.100.1, 10.0.0.7"], ("10.0.0.0/8",), "198.51.100.1"),
        # a hop the trusted proxy wrote that is not an address ends the walk at that proxy: the hops left of
        # it may be the client's own (skipping it would let a client choose its address)
        ("10.0.0.5", ["6.6.6.6, unknown"], ("10.0.0.0/8",), "10.0.0.5"),
        ("10.0.0.5", ["not-an-ip, 198.51.100.1, <script>"], ("10.0.0.0/8",), "10.0.0.5"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1, 10.0.0.7, garbage"], ("10.0.0.0/8",), "10.0.0.5"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1, garbage, 10.0.0.7"], ("10.0.0.0/8",), "10.0.0.7"),
        # proxies that write the port are understood, for both address families
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1:4711"], ("10.0.0.0/8",), "198.51.100.1"),
        ("10.0.0.5", ["6.6.6.6, [2001:db8::1]:443"], ("10.0.0.0/8",), "2001:db8::1"),
        ("10.0.0.5", ["6.6.6.6, [2001:db8::1]"], ("10.0.0.0/8",), "2001:db8::1"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1:4711, 10.0.0.7:80"], ("10.0.0.0/8",), "198.51.100.1"),
        # everything trusted: the left-most hop is the best we know
        ("10.0.0.5", ["10.0.0.9"], ("10.0.0.0/8",), "10.0.0.9"),
        # trusted proxy without the header: the proxy itself
        ("10.0.0.5", [], ("10.0.0.0/8",), "10.0.0.5"),
        ("::1", ["2001:db8::1"], ("::1/128",), "2001:db8::1"),
    ],
)
def test_client_ip(peer: str, forwarded: list[str], trusted: tuple[str, ...], expected: str) -> None:
    assert client_ip(scope(peer, *forwarded), trusted) == expected


def test_no_peer_is_unknown() -> None:
    assert client_ip({"type": "http", "client": None, "headers": []}, ()) == "unknown"


@pytest.mark.parametrize(
    ("address", "subject"),
    [
        ("192.0.2.1", "ip:192.0.2.1"),
        ("2001:db8:1:2::1", "ip:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "ip:2001:db8:1:2::/64"),  # one subscriber's /64: one subject
        ("::ffff:192.0.2.1", "ip:192.0.2.1"),  # an IPv4 client of a dual-stack socket
        ("unknown", "ip:unknown"),
    ],
)
def test_a_rate_limit_counts_an_ipv6_client_by_its_64(address: str, subject: str) -> None:
    assert rate_subject(address) == subject
