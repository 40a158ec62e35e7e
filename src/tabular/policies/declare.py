"""How a route states what it needs; the start-up inventory refuses a route that states nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.handlers import BaseRouteHandler

__all__ = ["POLICY_OPT_KEY", "PUBLIC", "UndeclaredRouteError", "check_inventory", "public"]

POLICY_OPT_KEY: Final = "policy"


class _Public:
    """The declaration of a route anyone may call, authenticated or not."""

    def __repr__(self) -> str:
        return "PUBLIC"


PUBLIC: Final = _Public()


class UndeclaredRouteError(RuntimeError):
    """A route handler has no policy declaration: the application must not start."""


def public() -> dict[str, Any]:
    """Declare a handler public: `@get("/api/health", **public())`."""
    return {POLICY_OPT_KEY: PUBLIC}


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
