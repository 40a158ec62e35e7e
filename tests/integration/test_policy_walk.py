"""Every declared route, walked from the app, answers what the policy matrix says and what `POST /api/policy/check`
said it would.

For each route x role x credential x situation, the world gets fresh objects (a workspace the caller belongs
to, one they do not, one in another organization, or nothing at all) and a credential. Per route and role, an
admin of the caller's organization first asks the check API about every cell (the same subject: the user for
a session, the key by id; the same METHOD PATH) in one batch; then each request goes through the real
application, in order (each cell has its own objects, so an earlier request changes nothing a later cell
names). Its status, and reason code when refused, must equal the matrix cell and the check's answer. A refusal
is recognised by its reason code, so a handler's own 409/422 on an allowed request is not mistaken for the
guard's answer.

One walk serves both comparisons: each request is made once (the two walks made the same ~2,000 requests on
the same kind of world, twice per engine).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.policies import matrix
from tabular.policies.inventory import declared_routes
from tabular.policies.matrix import Credential, Situation
from tabular.policies.placement import is_collection
from tabular.vocabulary import Reason, Resource, Role
from tests.support.db import open_database
from tests.support.policy_world import bodies_for_routes, build_world
from tests.support.settings import make_settings

if TYPE_CHECKING:
    import httpx

    from tabular.policies.requirements import Requirement

pytestmark = pytest.mark.anyio

POLICY_CODES = {reason.value for reason in Reason} - {Reason.ALLOWED.value}


def situations_for(requirement: Requirement) -> list[Situation]:
    """Routes that address no object and no workspace have one answer for every situation."""
    if is_collection(requirement.resource, requirement.action) or requirement.resource is Resource.ACCOUNT:
        return [Situation.OWN_WORKSPACE]
    return list(Situation)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.timeout(600)  # a third of the walk; it grows with every route, and the machine is shared
async def test_every_route_answers_what_the_matrix_and_the_check_say(database_url: str, role: Role) -> None:
    app = create_app(make_settings(database_url))
    cells = {(r.role, r.situation, r.resource, r.action, r.credential): r for r in matrix.build()}
    routes = declared_routes(app)
    bodies = bodies_for_routes()
    mismatches: list[str] = []
    checked = 0
    async with open_database(database_url) as database, AsyncTestClient(app) as client:
        for method, path, requirement in routes:
            walk: list[tuple[Credential, Situation, str, dict[str, str]]] = []
            checks: list[dict[str, Any]] = []
            async with database.transaction() as session:
                world = await build_world(session, roles={role, Role.ADMIN})
                admin, _ = await world.credential(world.callers[Role.ADMIN], Credential.SESSION, None, app)
                caller = world.callers[role]
                for credential, situation in itertools.product(Credential, situations_for(requirement)):
                    object_id, workspace = await world.place(requirement.locate_as, situation, caller)
                    headers, subject = await world.credential(caller, credential, workspace, app)
                    url = await world.url(path, requirement, object_id, workspace)
                    walk.append((credential, situation, url, headers))
                    checks.append({"subject": subject, "method": method, "path": url})
            answers = await client.post("/api/policy/check/batch", json={"checks": checks}, headers=admin)
            assert answers.status_code == 200, answers.text
            for (credential, situation, url, headers), answer in zip(walk, answers.json()["results"], strict=True):
                response = await client.request(method, url, headers=headers, json=bodies.get(f"{method} {path}"))
                where = (role.value, situation.value, requirement.resource.value, requirement.action.value)
                cell = cells[(*where, credential.value)]
                wanted = "allowed" if cell.status == 200 else f"{cell.status} {cell.code}"
                outcome, said = _outcome(response), _answered(answer)
                if outcome != wanted:
                    mismatches.append(f"{method} {path} {role}/{credential}/{situation}: {outcome}, matrix {wanted}")
                if said != outcome:
                    mismatches.append(f"{method} {path} {role}/{credential}/{situation}: {outcome}, check {said}")
                checked += 1
    assert mismatches == [], f"{len(mismatches)} disagreements in {checked} requests"
    assert routes, "the app declares routes"
    assert checked >= len(routes) * len(Credential)  # every route, under every credential at least


def _answered(answer: dict[str, Any]) -> str:
    return "allowed" if answer["allowed"] else f"{answer['status']} {answer['code']}"


def _outcome(response: httpx.Response) -> str:
    if response.status_code in {401, 403, 404}:
        code = response.json().get("code")
        if code in POLICY_CODES:
            return f"{response.status_code} {code}"
    return "allowed"
