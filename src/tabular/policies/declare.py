"""How a route states what it needs; the guard enforces it and the start-up inventory refuses silence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from tabular.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

    from tabular.auth.principal import AuthFailure, Principal

__all__ = [
    "POLICY_OPT_KEY",
    "PUBLIC",
    "UndeclaredRouteError",
    "authenticated",
    "check_inventory",
    "policy_guard",
    "public",
]

POLICY_OPT_KEY: Final = "policy"


class _Public:
    """The declaration of a route anyone may call, authenticated or not."""

    def __repr__(self) -> str:
        return "PUBLIC"


PUBLIC: Final = _Public()


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Any authenticated caller acting on their own account; `sessions_only` refuses API keys (403)."""

    sessions_only: bool = False


class UndeclaredRouteError(RuntimeError):
    """A route handler has no policy declaration: the application must not start."""


def public() -> dict[str, Any]:
    """Declare a handler public: `@get("/api/health", **public())`."""
    return {POLICY_OPT_KEY: PUBLIC}


def authenticated(*, sessions_only: bool = False) -> dict[str, Any]:
    """Declare a handler open to any authenticated caller acting on their own account.

    `sessions_only` is for what an API key must never do: create keys, manage MFA, change the password.
    """
    return {POLICY_OPT_KEY: Authenticated(sessions_only=sessions_only)}


async def policy_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The one guard: public routes pass; every other route needs a principal.

    Declarations are compared by type, not identity: Litestar copies a handler's `opt` per layer.
    """
    declaration = handler.opt.get(POLICY_OPT_KEY, PUBLIC)  # only framework routes lack one (see check_inventory)
    if isinstance(declaration, _Public):
        return
    principal: Principal | None = connection.scope.get("user")
    if principal is None:
        raise rejection(connection.scope.get("auth"))
    if isinstance(declaration, Authenticated) and declaration.sessions_only and not principal.is_session:
        raise Forbidden("API keys cannot do this; sign in with a session.", code="api_key_not_allowed")


def rejection(failure: AuthFailure | None) -> Unauthorized | Forbidden:
    """The error for a request without an acceptable credential: 401, or 403 for a failed CSRF check."""
    if failure is None:
        return Unauthorized("Authentication required: send an API key or a session token.")
    if failure.status == Forbidden.status_code:
        return Forbidden("The session cookie needs the X-CSRF-Token header on this request.", code=failure.code)
    return Unauthorized("The credentials are invalid, expired or revoked.", code=failure.code)


def check_inventory(app: Litestar) -> None:
    """Fail closed: every HTTP route handler must declare a policy or be declared public.

    Litestar's own generated handlers (OPTIONS for CORS, the `/schema` documentation routes) are public
    by declaration here, because no application data travels through them.
    """
    undeclared = sorted(
        f"{method} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if POLICY_OPT_KEY not in handler.opt and not _is_framework_handler(handler)
        for method in sorted(getattr(handler, "http_methods", ()) or ("WEBSOCKET",))
    )
    if undeclared:
        raise UndeclaredRouteError("routes without a policy declaration: " + ", ".join(undeclared))


def _is_framework_handler(handler: BaseRouteHandler) -> bool:
    module = getattr(handler.fn, "__module__", "") or ""
    return module.startswith("litestar.") or getattr(handler, "http_methods", None) == {"OPTIONS"}
