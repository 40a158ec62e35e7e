"""The start-up inventory: every route declares a policy or is declared public, else the app does not start."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from tabular.db import Workspace
from tabular.policies.placement import PLACEMENTS
from tabular.policies.requirements import POLICY_OPT_KEY, Requirement

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.handlers import BaseRouteHandler

_PARAMETER: Final = re.compile(r"\{(\w+):\w+\}")


class UndeclaredRouteError(RuntimeError):
    """A route handler has no policy declaration: the application must not start."""


def check_inventory(app: Litestar) -> None:
    """Fail closed: every HTTP route handler must declare a policy or be declared public.

    A declared `by` must also be one of the route's path parameters, else the guard would locate nothing;
    and a handler may take an `authorized(Model)` row only of the model its declaration locates.

    Litestar's own generated handlers (OPTIONS for CORS, the `/schema` documentation routes) are public
    by declaration here, because no application data travels through them.
    """
    undeclared = sorted(
        f"{method} {path}"
        for method, path, handler in _handlers(app)
        if POLICY_OPT_KEY not in handler.opt and not _is_framework_handler(handler)
    )
    if undeclared:
        raise UndeclaredRouteError("routes without a policy declaration: " + ", ".join(undeclared))
    misaddressed = sorted(
        f"{method} {path} (by={requirement.by!r})"
        for method, path, requirement in declared_routes(app)
        if requirement.by is not None and requirement.by not in _PARAMETER.findall(path)
    )
    if misaddressed:
        raise UndeclaredRouteError("routes whose `by` names no path parameter: " + ", ".join(misaddressed))
    miswired = sorted(
        f"{method} {path} takes {name}: {model.__name__}"
        for method, path, handler in _handlers(app)
        for name, model in _authorized_rows(handler).items()
        if model is not _located_model(handler.opt.get(POLICY_OPT_KEY))
    )
    if miswired:
        raise UndeclaredRouteError("routes taking a row their declaration does not locate: " + ", ".join(miswired))


def declared_routes(app: Litestar) -> list[tuple[str, str, Requirement]]:
    """(METHOD, path, requirement) for every route that requires something, in the router's order."""
    return [
        (method, path, handler.opt[POLICY_OPT_KEY])
        for method, path, handler in _handlers(app)
        if isinstance(handler.opt.get(POLICY_OPT_KEY), Requirement)
    ]


def match_route(app: Litestar, method: str, path: str) -> tuple[BaseRouteHandler, dict[str, str]] | None:
    """The handler serving METHOD PATH and the raw path parameters, found the way the router finds them."""
    for route in app.routes:
        found = re.fullmatch(_PARAMETER.sub(r"(?P<\1>[^/]+)", route.path), path.rstrip("/") or "/")
        if found is None:
            continue
        for handler in getattr(route, "route_handlers", ()):
            if method in (getattr(handler, "http_methods", None) or ()):
                return handler, found.groupdict()
    return None


def _authorized_rows(handler: BaseRouteHandler) -> dict[str, type[Any]]:
    """The parameters of `handler` that receive a row the guard authorized, and the model of each."""
    if not hasattr(handler, "parsed_fn_signature"):
        return {}
    providers = handler.resolve_dependencies()
    return {
        name: model
        for name in handler.parsed_fn_signature.parameters
        if name in providers and (model := getattr(providers[name].dependency, "authorized_model", None))
    }


def _located_model(declaration: object) -> type[Any] | None:
    """The model of the row the guard loads for `declaration`: by a path id, or the `?workspace_id=`."""
    if not isinstance(declaration, Requirement):
        return None
    if declaration.by is not None:
        model: type[Any] = PLACEMENTS[declaration.locate_as].model
        return model
    return Workspace if declaration.workspace_query is not None else None


def _handlers(app: Litestar) -> list[tuple[str, str, BaseRouteHandler]]:
    return [
        (method, route.path, handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        for method in sorted(getattr(handler, "http_methods", ()) or ("WEBSOCKET",))
    ]


def _is_framework_handler(handler: BaseRouteHandler) -> bool:
    module = getattr(handler.fn, "__module__", "") or ""
    return module.startswith("litestar.") or getattr(handler, "http_methods", None) == {"OPTIONS"}
