"""A delivery is sent to an address checked beforehand, never to one the HTTP client would look up again."""

from __future__ import annotations

import pytest

from tabular.webhooks.addresses import Unreachable, checked_addresses, pinned

pytestmark = pytest.mark.anyio


def test_a_pinned_http_request_names_the_host_in_its_header_only() -> None:
    target = pinned("http://hooks.example.com:8080/in?x=1", "203.0.113.7")
    assert target == ("http://203.0.113.7:8080/in?x=1", {"host": "hooks.example.com:8080"}, {})


def test_a_pinned_https_request_keeps_the_name_for_tls_and_brackets_an_ipv6_address() -> None:
    target = pinned("https://user:pw@hooks.example.com/in", "2001:db8::1")
    assert target == (
        "https://user:pw@[2001:db8::1]/in",
        {"host": "hooks.example.com"},
        {"sni_hostname": "hooks.example.com"},
    )


async def test_an_address_literal_is_checked_as_it_is() -> None:
    assert await checked_addresses("http://127.0.0.1:9/x", allow_private=True) == ["127.0.0.1"]
    with pytest.raises(Unreachable, match=r"resolves to 127\.0\.0\.1"):
        await checked_addresses("http://127.0.0.1:9/x", allow_private=False)
    with pytest.raises(Unreachable, match="invalid port"):
        await checked_addresses("http://127.0.0.1:99999/x", allow_private=True)
