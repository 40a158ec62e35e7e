"""Where a webhook may point: http(s), and a host that resolves only to public addresses.

Checked when an endpoint is registered and again before each delivery, as a name can resolve elsewhere by
then. A delivery connects to the very addresses that were checked (`pinned`): the name is not looked up a
second time by the HTTP client, so a name that answers a public address to the check and a private one a
moment later (DNS rebinding) cannot steer a delivery inside the network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import NamedTuple
from urllib.parse import urlsplit


class Unreachable(ValueError):
    """The URL may not receive webhooks; the message says why, after "the URL"."""


class Pinned(NamedTuple):
    """A request to one checked address: its URL, the `Host` header and the httpx extensions (TLS name)."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, str]


async def checked_addresses(url: str, *, allow_private: bool) -> list[str]:
    """The addresses `url`'s host resolves to, each allowed (all public unless `allow_private`)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise Unreachable("has an invalid port") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise Unreachable("must be an http:// or https:// URL with a host")
    default = 443 if parts.scheme == "https" else 80
    try:
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port or default, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Unreachable("names a host that does not resolve") from None
    addresses: list[str] = []
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if not allow_private and not (mapped or ip).is_global:
            raise Unreachable(f"resolves to {ip}, a loopback, private or link-local address")
        if str(ip) not in addresses:
            addresses.append(str(ip))
    return addresses


def pinned(url: str, address: str) -> Pinned:
    """`url` sent to `address`, under its own name.

    The host name stays in the `Host` header and, over TLS, in SNI and the certificate check (httpx's
    `sni_hostname`), so the receiver sees the request it registered for.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if userinfo else "") + literal + (f":{parts.port}" if parts.port else "")
    named = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return Pinned(parts._replace(netloc=netloc).geturl(), {"host": named}, extensions)
