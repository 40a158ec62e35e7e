"""How a route reaches a service: the request's `Actor`, built once, and a service made from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from tabular.auth.client_ip import client_ip, is_https
from tabular.auth.session_backend import clear_session_cookies, session_cookies
from tabular.services.actor import Actor, Service

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.datastructures import Cookie

    from tabular.auth.session_backend import IssuedSession

ServiceT = TypeVar("ServiceT", bound=Service)


def provide_actor(request: Request[Any, Any, Any], state: State, db_session: NamedDependency[AsyncSession]) -> Actor:
    """The caller (None on a public route), their IP and the request's transaction."""
    return Actor(
        session=db_session,
        auth=state.auth_engine,
        principal=request.scope.get("user"),
        client_ip=client_ip(request.scope, state.settings.trusted_proxies),
        refusal=request.scope.get("auth"),
    )


def service(kind: Callable[[Actor], ServiceT]) -> Provide:
    """A route dependency: `kind` built from the request's actor."""

    def provide(actor: NamedDependency[Actor]) -> ServiceT:
        return kind(actor)

    return Provide(provide, sync_to_thread=False)


@dataclass(frozen=True, slots=True)
class SessionCookies:
    """The cookies that carry a session, for this request's answer: `Secure` when the client came over TLS."""

    secure: bool

    def issue(self, issued: IssuedSession) -> list[Cookie]:
        """The HttpOnly session cookie and its CSRF companion."""
        return session_cookies(issued, secure=self.secure)

    def clear(self) -> list[Cookie]:
        """Both cookies, expired."""
        return clear_session_cookies(secure=self.secure)


def over_tls(request: Request[Any, Any, Any]) -> bool:
    """Whether the client reached us over TLS (a trusted proxy may say so): session cookies are then `Secure`."""
    return is_https(request.scope, request.app.state.settings.trusted_proxies)


def _provide_session_cookies(request: Request[Any, Any, Any]) -> SessionCookies:
    return SessionCookies(secure=over_tls(request))


SESSION_COOKIES = Provide(_provide_session_cookies, sync_to_thread=False)
"""The `session_cookies` dependency of the routes that start or end a session."""
