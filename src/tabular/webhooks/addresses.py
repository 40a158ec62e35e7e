"""Where a webhook may point: http(s), and a host that resolves only to public addresses.

Checked when an endpoint is registered and again before each delivery, as a name can resolve elsewhere by
then. A name resolved here can in principle resolve differently when the client connects a moment later;
the second check narrows that window, it does not close it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


async def address_problem(url: str, *, allow_private: bool) -> str | None:
    """Why `url` may not receive webhooks, or None."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return "has an invalid port"
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    if allow_private:
        return None
    default = 443 if parts.scheme == "https" else 80
    try:
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port or default, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return "names a host that does not resolve"
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        if not (mapped or ip).is_global:
            return f"resolves to {ip}, a loopback, private or link-local address"
    return None
