"""The routes the policy declares: the public ones pinned by name, and each one's policy in the OpenAPI document.

The walk of every route x role x credential x situation against the matrix is `test_policy_walk.py`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.policies import matrix
from tabular.policies.inventory import declared_routes
from tabular.policies.requirements import POLICY_OPT_KEY, Requirement
from tabular.vocabulary import Action

pytestmark = pytest.mark.anyio

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
