"""List filters agree with the check, and another tenant's object is indistinguishable from a missing one."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.auth.principal import Principal
from tabular.db import Dashboard, Report, Survey, SurveyStatus, WebhookEndpoint
from tabular.policies.decision import Target, decide
from tabular.policies.inventory import declared_routes
from tabular.policies.matrix import Situation
from tabular.vocabulary import Action, CredentialKind, Resource, Role
from tests.support.clients import without_request_id
from tests.support.db import committed_session
from tests.support.factories import new_dashboard, new_report, new_survey, new_webhook_endpoint
from tests.support.policy_world import World, build_world
from tests.support.settings import make_settings

pytestmark = pytest.mark.anyio

LISTS = {
    "/api/surveys": Resource.SURVEY,
    "/api/dashboards": Resource.DASHBOARD,
    "/api/reports": Resource.REPORT,
    "/api/webhooks": Resource.WEBHOOK_ENDPOINT,
    "/api/workspaces": Resource.WORKSPACE,
}
SEEDS = [3, 17, 2024]


async def _list_ids(client: Any, path: str, headers: dict[str, str]) -> set[str]:
    ids: set[str] = set()
    offset = 0
    while True:
        response = await client.get(path, params={"limit": 200, "offset": offset}, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        ids |= {item["id"] for item in page["items"]}
        offset += 200
        if offset >= page["total"]:
            return ids


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("role", list(Role))
async def test_a_list_returns_exactly_what_read_allows(database_url: str, role: Role, seed: int) -> None:
    rng = random.Random(seed)
    app = create_app(make_settings(database_url))
    routes = {path for _, path, _ in declared_routes(app)}
    async with committed_session(database_url) as session:
        world = await build_world(session)
        caller = world.callers[role]
        placed = await _random_objects(world, rng, caller)
        _, secret = await world.key(caller)
        memberships = {w.id for w, is_member in placed["workspaces"] if is_member}
    principal = Principal(
        user_id=caller.id,
        organization_id=world.home.id,
        role=role,
        workspace_ids=frozenset(memberships),
        credential=CredentialKind.API_KEY,
        mfa_enabled=True,
        mfa_verified=True,
    )
    async with AsyncTestClient(app) as client:
        for path, resource in LISTS.items():
            if path not in routes:
                continue
            readable = {
                str(object_id)
                for object_id, target in placed[resource]
                if decide(principal, resource, Action.READ, target).allowed
            }
            if decide(principal, resource, Action.LIST, None).allowed:
                assert await _list_ids(client, path, {"X-API-Key": secret}) == readable, path
            else:
                assert (await client.get(path, headers={"X-API-Key": secret})).status_code == 403


async def _random_objects(world: World, rng: random.Random, caller: Any) -> dict[Any, list[Any]]:
    placed: dict[Any, list[Any]] = {resource: [] for resource in LISTS.values()} | {"workspaces": []}
    for organization in (world.home, world.home, world.home, world.away):
        is_member = organization is world.home and rng.random() < 0.5
        workspace = await world.workspace(organization, *((caller,) if is_member else ()))
        placed["workspaces"].append((workspace, is_member))
        placed[Resource.WORKSPACE].append((workspace.id, Target(organization.id, workspace_id=workspace.id)))
        for resource in (Resource.SURVEY, Resource.DASHBOARD, Resource.REPORT, Resource.WEBHOOK_ENDPOINT):
            for _ in range(rng.randint(0, 4)):
                object_id, _ = await _place_in(world, resource, workspace)
                placed[resource].append((object_id, Target(organization.id, workspace_id=workspace.id)))
    return placed


async def _place_in(world: World, resource: Resource, workspace: Any) -> tuple[uuid.UUID, Any]:
    thing: Survey | Dashboard | Report | WebhookEndpoint
    if resource is Resource.SURVEY:
        thing = await new_survey(world.session, workspace, title="Random", status=SurveyStatus.DRAFT, questions=())
    elif resource is Resource.DASHBOARD:
        thing = await new_dashboard(world.session, workspace, name="Random")
    elif resource is Resource.WEBHOOK_ENDPOINT:
        thing = await new_webhook_endpoint(world.session, workspace)
    else:
        thing = await new_report(world.session, workspace, name="Random")
    return thing.id, workspace


async def test_another_tenants_object_and_a_missing_one_are_indistinguishable(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    cases = []
    async with committed_session(database_url) as session:
        world = await build_world(session)
        admin = world.callers[Role.ADMIN]
        issued = app.state.auth_engine.tokens.issue(admin.id, admin.token_version, mfa_verified=True)
        for method, path, requirement in declared_routes(app):
            if requirement.by is None:
                continue
            foreign_id, _ = await world.place(requirement.locate_as, _foreign(), admin)
            cases.append((method, path, requirement.by, foreign_id))
    headers = {"Authorization": f"Bearer {issued.token}"}
    async with AsyncTestClient(app) as client:
        for method, path, parameter, foreign_id in cases:
            answers = []
            for object_id in (foreign_id, str(uuid.uuid4())):
                url = path.replace(f"{{{parameter}:uuid}}", str(object_id)).replace("{user_id:uuid}", str(uuid.uuid4()))
                answers.append(await client.request(method, url, headers=headers, json={}))
            foreign, missing = answers
            assert foreign.status_code == missing.status_code == 404, f"{method} {path}"
            assert without_request_id(foreign) == without_request_id(missing), f"{method} {path}"
            assert _comparable(foreign.headers) == _comparable(missing.headers), f"{method} {path}"


def _foreign() -> Situation:
    return Situation.OTHER_ORGANIZATION


def _comparable(headers: Any) -> dict[str, str]:
    """Everything but the clock, the request's id and the rate-limit counters (each request spends one)."""
    return {
        name: value
        for name, value in headers.items()
        if name.lower() not in {"date", "x-request-id"} and not name.lower().startswith("ratelimit")
    }
