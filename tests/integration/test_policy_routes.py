"""Every declared route, walked from the app, answers exactly what the policy matrix says.

For each route x role x credential x situation, the world gets fresh objects (a workspace the caller
belongs to, one they do not, one in another organization, or nothing at all), the request goes through
the real application, and the status (and reason code when refused) must equal the matrix cell. A
refusal is recognised by its reason code, so a handler's own 409/422 on an allowed request is not
mistaken for the guard's answer. Also here: the start-up inventory and the OpenAPI annotations.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.policies import matrix
from tabular.policies.inventory import declared_routes
from tabular.policies.matrix import Credential, Situation
from tabular.policies.placement import is_collection
from tabular.policies.requirements import POLICY_OPT_KEY, Requirement
from tabular.vocabulary import Action, Reason, Resource, Role
from tests.support.db import open_database
from tests.support.policy_world import bodies_for_routes, build_world
from tests.support.settings import make_settings

pytestmark = pytest.mark.anyio

POLICY_CODES = {reason.value for reason in Reason} - {Reason.ALLOWED.value}
EXPECTED_PUBLIC = {
    "GET /",  # the landing page, and the documentation pages' scripts and styles
    "GET /schema/assets/{file_path:path}",
    "HEAD /schema/assets/{file_path:path}",
    "GET /api/health",
    "GET /api/ready",
    "POST /api/auth",
    "GET /api/public/surveys/{survey_id:uuid}",
    "POST /api/public/surveys/{survey_id:uuid}/responses",
    "POST /api/users/set-password",
    "GET /login",  # the account pages: signing in and out, and their stylesheet and script
    "POST /login",
    "POST /login/code",
    "POST /logout",
    "GET /static/{file_path:path}",
    "HEAD /static/{file_path:path}",
    "OPTIONS /static/{file_path:path}",
}


def situations_for(requirement: Requirement) -> list[Situation]:
    """Routes that address no object and no workspace have one answer for every situation."""
    if is_collection(requirement.resource, requirement.action) or (requirement.resource is Resource.ACCOUNT):
        return [Situation.OWN_WORKSPACE]
    return list(Situation)


@pytest.mark.timeout(600)  # ~95 s alone on SQLite; it grows with every route, and the machine is shared
async def test_every_route_answers_what_the_matrix_says(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    cells = {(r.role, r.situation, r.resource, r.action, r.credential): r for r in matrix.build()}
    routes = declared_routes(app)
    bodies = bodies_for_routes()
    mismatches: list[str] = []
    checked = 0
    async with open_database(database_url) as database, AsyncTestClient(app) as client:
        for (method, path, requirement), role, credential in itertools.product(routes, Role, Credential):
            for situation in situations_for(requirement):
                async with database.transaction() as session:
                    world = await build_world(session, roles=(role,))
                    caller = world.callers[role]
                    object_id, workspace = await world.place(requirement.locate_as, situation, caller)
                    headers, _ = await world.credential(caller, credential, workspace, app)
                    url = await world.url(path, requirement, object_id, workspace)
                response = await client.request(method, url, headers=headers, json=bodies.get(f"{method} {path}"))
                where = (role.value, situation.value, requirement.resource.value, requirement.action.value)
                cell = cells[(*where, credential.value)]
                outcome = _outcome(response)
                wanted = "allowed" if cell.status == 200 else f"{cell.status} {cell.code}"
                if outcome != wanted:
                    mismatches.append(f"{method} {path} {role}/{credential}/{situation}: {outcome}, matrix {wanted}")
                checked += 1
    assert mismatches == [], f"{len(mismatches)} of {checked} requests disagree with the matrix"
    assert checked >= len(routes) * len(Role) * len(Credential)


def _outcome(response: Any) -> str:
    if response.status_code in {401, 403, 404}:
        code = response.json().get("code")
        if code in POLICY_CODES:
            return f"{response.status_code} {code}"
    return "allowed"


def test_exactly_the_expected_routes_are_public(settings: Any) -> None:
    """A route made public by mistake would skip the guard: the public set is pinned here, by name."""
    app = create_app(settings)
    public = {
        f"{method} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if handler.opt.get(POLICY_OPT_KEY) is not None and not isinstance(handler.opt[POLICY_OPT_KEY], Requirement)
        for method in handler.http_methods
    }
    assert public == EXPECTED_PUBLIC


async def test_openapi_carries_each_routes_policy(client: AsyncTestClient[Litestar], app: Litestar) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert set(document["components"]["securitySchemes"]) == {"apiKey", "bearer", "cookie"}
    rows = matrix.build()
    for method, path, requirement in declared_routes(app):
        if not path.startswith("/api/"):
            continue  # the account pages: HTML for people, left out of the API's document on purpose
        operation = document["paths"][_openapi_path(path)][method.lower()]
        extension = operation["x-tabular-policy"]
        assert (extension["resource"], extension["action"]) == (requirement.resource.value, requirement.action.value)
        allowed = sorted(
            {r.role for r in rows if (r.resource, r.action, r.credential, r.status) ==
             (requirement.resource.value, requirement.action.value, "session", 200)}
        )  # fmt: skip
        assert sorted(extension["roles"]) == allowed, f"{method} {path}"
        assert operation["security"] == [{"apiKey": []}, {"bearer": []}, {"cookie": []}]
        assert {"401", "403"} <= set(operation["responses"]), f"{method} {path}"
        looks_up = requirement.locates or 404 in dict(requirement.problems)  # the guard's lookup, or a body's id
        assert ("404" in operation["responses"]) is looks_up, f"{method} {path}: a 404 iff it looks one up"
        workspace = [p for p in operation.get("parameters", []) if p["name"] == "workspace_id" and p["in"] == "query"]
        if requirement.workspace_query is None:
            assert workspace == [], f"{method} {path} documents a workspace_id the guard does not read"
        else:  # the guard reads it; the declaration documents it, required where the guard requires it
            assert [p.get("required", False) for p in workspace] == [requirement.action is Action.CREATE], path


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
