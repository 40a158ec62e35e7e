"""The guard's answer to a request, worked out without making it: the check API, `explain` and policy test files.

The steps are the guard's, in its order (`policies/guard.py`): the route, a query parameter sent twice (400),
a public route, a refused credential, then `authorize` — the one decision function — on the address the
request names, located by the caller's locator (the database's `TenantLookup`, or a test file's world).
Nothing here writes: a check loads rows and decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, urlsplit
from uuid import UUID

from tabular.auth.principal import AuthFailure
from tabular.errors import TabularError
from tabular.policies.authorize import Address, Located, authorize
from tabular.policies.guard import address_of, single_values
from tabular.policies.inventory import match_route
from tabular.policies.requirements import POLICY_OPT_KEY, Requirement
from tabular.vocabulary import Reason

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar import Litestar
    from litestar.handlers import BaseRouteHandler

    from tabular.auth.principal import Principal
    from tabular.policies.authorize import Locator

_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
_UUID_PARAMETER: Final = re.compile(r"\{(\w+):uuid\}")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the guard answers: 200 when it lets the request through, else the status and code it refuses with.

    `rule` is what decided: a rule id of the table, or one of the guard's own steps (`routing`, `query`,
    `public`, `authentication`, `address`, `tenant`). `located` is the object the guard found, if any.
    """

    status: int
    code: str
    rule: str
    detail: str
    route: str | None = None
    requirement: Requirement | None = None
    address: Address | None = None
    located: Located | None = None

    @property
    def allowed(self) -> bool:
        """Whether the guard lets the request through to its handler."""
        return self.code == Reason.ALLOWED.value


async def check(
    app: Litestar, method: str, url: str, caller: Principal | AuthFailure, locator: Callable[[UUID], Locator]
) -> Verdict:
    """Decide METHOD URL (path and query string) for `caller`; `locator(organization_id)` finds objects."""
    parts = urlsplit(url)
    method = method.upper()
    routed = _routed(app, method, parts.path)
    if isinstance(routed, Verdict):
        return routed
    handler, parameters, route = routed
    try:
        query = single_values(parse_qsl(parts.query, keep_blank_values=True))
    except TabularError as error:
        return Verdict(error.status_code, error.code, "query", str(error.detail or error.code), route)
    declaration = handler.opt.get(POLICY_OPT_KEY)
    if not isinstance(declaration, Requirement):
        return Verdict(200, Reason.ALLOWED.value, "public", "a public route: anyone may call it", route)
    if isinstance(caller, AuthFailure):
        return Verdict(caller.status, caller.code, "authentication", caller.detail, route, declaration)
    named: list[Address] = []

    def address() -> Address | None:
        found = address_of(declaration, parameters, query)
        named.extend([found] if found is not None else [])
        return found

    try:
        outcome = await authorize(
            caller, declaration.resource, declaration.action, address, locator(caller.organization_id)
        )
    except TabularError as error:
        return Verdict(error.status_code, error.code, "address", str(error.detail or error.code), route, declaration)
    decision = outcome.decision
    return Verdict(
        decision.status, decision.code, decision.rule, decision.reason.message, route, declaration,
        named[0] if named else None, outcome.located,
    )  # fmt: skip


def _routed(app: Litestar, method: str, path: str) -> tuple[BaseRouteHandler, dict[str, str], str] | Verdict:
    """The handler, its raw path parameters and `METHOD /declared/path`; or the router's 404 or 405."""
    matched = match_route(app, method, path)
    declared = None if matched is None else _route_path(app, matched[0])
    if matched is None or declared is None or not _typed(declared, matched[1]):
        if matched is None and any(match_route(app, other, path) for other in _METHODS - {method}):
            return Verdict(405, "method_not_allowed", "routing", f"{path} is not served for {method}")
        return Verdict(404, "not_found", "routing", f"no route serves {method} {path}")
    return matched[0], matched[1], f"{method} {declared}"


def _route_path(app: Litestar, handler: object) -> str | None:
    """The declared path of the route `handler` serves (`/api/surveys/{survey_id:uuid}`)."""
    return next((route.path for route in app.routes if handler in getattr(route, "route_handlers", ())), None)


def _typed(path: str, parameters: dict[str, str]) -> bool:
    """Whether each `{name:uuid}` parameter is a UUID: the router serves no route to one that is not (404)."""
    for name in _UUID_PARAMETER.findall(path):
        try:
            UUID(parameters[name])
        except ValueError:
            return False
    return True
