"""Resolves the caller before anything else answers, and never refuses: the guard decides."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

    from tabular.auth.backends import Authenticator


class AuthenticationMiddleware(ASGIMiddleware):
    """Puts the `Principal` (or None) in `scope["user"]` and any rejected credential in `scope["auth"]`.

    Bad credentials do not end the request here, so the rate limiter (the next middleware) counts the
    attempt against the client IP before the guard answers 401.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Authenticate, record the outcome on the connection, pass on."""
        principal, failure = await self.authenticator.authenticate(ASGIConnection(scope, receive=receive))
        scope["user"] = principal
        scope["auth"] = failure
        await next_app(scope, receive, send)
