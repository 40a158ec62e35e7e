"""Attack: cross-site request forgery: another site's page makes the browser send its session cookie.

The browser attaches `auth_token` to a request another site starts, but that site cannot read the
`csrf_token` cookie to echo it in `X-CSRF-Token`. So every unsafe route authenticated by the cookie must
refuse the request without it (403 `csrf_failed`), and with another session's token. The routes come from
the start-up inventory, so a new route is covered without touching this file; logging out, a public route
that acts on the session, is added by hand. With the right token the same request gets past authentication
(the control), so a refusal is the CSRF check's, not some other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.auth.session_backend import SAFE_METHODS
from tabular.policies.inventory import declared_routes
from tabular.policies.matrix import Situation
from tabular.vocabulary import Role
from tests.support.db import open_database
from tests.support.policy_world import bodies_for_routes, build_world
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from httpx import Response
    from litestar import Litestar

    from tabular.db import User
    from tests.support.db import Database

pytestmark = pytest.mark.anyio

SESSION_ROUTES_DECLARED_PUBLIC = [("POST", "/api/auth", {"action": "logout"})]
"""Public routes that act on the caller's session: not in the inventory's requirements, so named here."""


@dataclass(frozen=True)
class Forgery:
    method: str
    url: str
    body: Any


@dataclass(frozen=True)
class Cookies:
    """A browser's session: the cookies it sends on its own, and the token only the API's own pages can read."""

    cookie: dict[str, str]
    csrf: str


def _sessions(app: Litestar, caller: User) -> tuple[Cookies, str]:
    """A fresh session of `caller` as a browser holds it, and the CSRF token of another session of theirs."""
    tokens = app.state.auth_engine.tokens
    issued = tokens.issue(caller.id, caller.token_version, mfa_verified=True)
    other = tokens.issue(caller.id, caller.token_version, mfa_verified=True)
    cookie = {"Cookie": f"auth_token={issued.token}; csrf_token={issued.claims.csrf}"}
    return Cookies(cookie, issued.claims.csrf), other.claims.csrf


async def _forgeries(app: Litestar, database: Database) -> list[tuple[Forgery, Cookies, str]]:
    """Every unsafe route, each on a fresh object of its own in a workspace of a fresh admin."""
    bodies = bodies_for_routes()
    cases = []
    for method, path, requirement in declared_routes(app):
        if method in SAFE_METHODS:
            continue
        async with database.transaction() as session:
            world = await build_world(session, roles=(Role.ADMIN,))
            caller = world.callers[Role.ADMIN]
            object_id, workspace = await world.place(requirement.locate_as, Situation.OWN_WORKSPACE, caller)
            url = await world.url(path, requirement, object_id, workspace)
        cases.append((Forgery(method, url, bodies.get(f"{method} {path}")), *_sessions(app, caller)))
    for method, url, body in SESSION_ROUTES_DECLARED_PUBLIC:
        async with database.transaction() as session:
            caller = (await build_world(session, roles=(Role.ADMIN,))).callers[Role.ADMIN]
        cases.append((Forgery(method, url, body), *_sessions(app, caller)))
    return cases


SESSION_REFUSALS = {"unauthenticated", "invalid_token", "session_expired", "session_revoked", "account_disabled"}
"""The codes of a session that did not authenticate (a 401 for a wrong MFA code is the handler's, after it)."""


def _code(response: Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    code: str = response.json()["code"]
    return code


def _refused_for_csrf(response: Response) -> bool:
    return response.status_code == 403 and _code(response) == "csrf_failed"


async def test_every_unsafe_route_refuses_the_session_cookie_without_its_csrf_token(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    mistakes: list[str] = []
    async with open_database(database_url) as database, AsyncTestClient(app) as client:
        forgeries = await _forgeries(app, database)
        for forgery, browser, another_sessions_csrf in forgeries:
            where = f"{forgery.method} {forgery.url}"
            for label, header in [("none", {}), ("empty", {"X-CSRF-Token": ""}),
                                  ("another session's", {"X-CSRF-Token": another_sessions_csrf})]:  # fmt: skip
                forged = await client.request(
                    forgery.method, forgery.url, headers=browser.cookie | header, json=forgery.body
                )
                if not _refused_for_csrf(forged):
                    mistakes.append(f"{where} with {label} CSRF token: {forged.status_code} {forged.text[:200]}")
            genuine = await client.request(
                forgery.method, forgery.url, headers=browser.cookie | {"X-CSRF-Token": browser.csrf}, json=forgery.body
            )
            if _refused_for_csrf(genuine) or _code(genuine) in SESSION_REFUSALS:
                mistakes.append(f"{where} with the right CSRF token: {genuine.status_code} {genuine.text[:200]}")
    assert mistakes == []
    assert len(forgeries) >= 20, "the inventory lists the unsafe routes"
