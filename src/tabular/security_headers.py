"""Headers every answer carries for the browser's sake, added once here for routes, errors and the 429 alike.

- `X-Content-Type-Options: nosniff`: a JSON answer is never run as a script or styled as CSS.
- `Cache-Control: no-store` unless a route set its own: answers carry sessions, new keys, TOTP secrets,
  recovery codes and personal data, which no cache along the way (or the browser's) may keep. The
  documentation assets set theirs (a day) and keep it.
- `Strict-Transport-Security` on answers the client got over TLS (directly, or through a trusted proxy
  that says so): after one visit the browser never comes back over plain http.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from tabular.auth.client_ip import is_https

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

NOSNIFF: Final = (b"x-content-type-options", b"nosniff")
NO_STORE: Final = (b"cache-control", b"no-store")
HSTS: Final = (b"strict-transport-security", b"max-age=31536000")
_OVER_HTTP: Final = (NOSNIFF,)
_OVER_TLS: Final = (NOSNIFF, HSTS)


class SecurityHeadersMiddleware(ASGIMiddleware):
    """Appends the headers to every HTTP answer that does not set them itself."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, trusted_proxies: tuple[str, ...]) -> None:
        self.trusted_proxies = trusted_proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Pass the request on; add the headers to the answer's start (`no-store` unless it set a cache policy).

        Only `Cache-Control` is ever set by a route (the docs assets); ASGI header names are lower-case.
        """
        extra = _OVER_TLS if is_https(scope, self.trusted_proxies) else _OVER_HTTP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                cached = any(name == b"cache-control" for name, _ in headers)
                message["headers"] = [*headers, *extra, *(() if cached else (NO_STORE,))]
            await send(message)

        await next_app(scope, receive, send_with_headers)
