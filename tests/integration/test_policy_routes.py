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
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tabular.app import create_app
from tabular.auth.api_keys import generate_key
from tabular.auth.passwords import DUMMY_HASH
from tabular.db import (
    ApiKey,
    Dashboard,
    Organization,
    Question,
    QuestionKind,
    Report,
    Survey,
    SurveyStatus,
    Tier,
    User,
    Workspace,
    WorkspaceMembership,
)
from tabular.db.base import utcnow
from tabular.db.config import make_db_config
from tabular.policies import matrix
from tabular.policies.columns import is_collection
from tabular.policies.declare import POLICY_OPT_KEY, Requirement
from tabular.policies.matrix import Credential, Situation
from tabular.policies.vocabulary import Resource, Role
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

POLICY_CODES = {
    "unauthenticated",
    "role_forbidden",
    "api_key_not_allowed",
    "read_only_key",
    "not_a_member",
    "outside_pinned_workspace",
    "not_found",
}
EXPECTED_PUBLIC = {
    "GET /api/health",
    "GET /api/ready",
    "POST /api/auth",
    "POST /api/public/surveys/{survey_id:uuid}/responses",
    "POST /api/users/set-password",
}


def _bodies() -> dict[str, Any]:
    """A valid body for each route that takes one, so an allowed request gets past input validation."""
    unique = uuid.uuid4().hex[:8]
    question = {"kind": "single_choice", "text": "Pick", "choices": ["a", "b"], "required": True}
    return {
        "POST /api/keys": {"name": "walk"},
        "POST /api/auth/password": {"current_password": "wrong-password", "new_password": "another-password-1"},
        "POST /api/auth/mfa/confirm": {"code": "000000"},
        "POST /api/auth/mfa/disable": {"code": "000000"},
        "POST /api/auth/mfa/recovery-codes": {"code": "000000"},
        "POST /api/workspaces": {"name": f"walk {unique}"},
        "PATCH /api/workspaces/{workspace_id:uuid}": {"name": f"renamed {unique}"},
        "POST /api/users": {"email": f"walk-{unique}@example.test", "name": "Walk", "role": "member",
                            "password": "walk-password-1"},
        "PATCH /api/users/{user_id:uuid}": {"name": "Walked"},
        "POST /api/surveys": {"title": "Walk", "description": "", "questions": [question]},
        "PATCH /api/surveys/{survey_id:uuid}": {"title": "Walked"},
        "POST /api/surveys/{survey_id:uuid}/responses": {"answers": []},
        "POST /api/dashboards": {"name": "Walk"},
        "PATCH /api/dashboards/{dashboard_id:uuid}": {"name": "Walked"},
        "POST /api/reports": {"name": "Walk"},
        "PATCH /api/reports/{report_id:uuid}": {"name": "Walked"},
    }  # fmt: skip


@dataclass
class World:
    """Two organizations, a caller per role, and factories for fresh objects in any situation."""

    session: AsyncSession
    home: Organization
    away: Organization
    callers: dict[Role, User] = field(default_factory=dict)
    stranger: User | None = None  # someone else in the home organization
    foreigner: User | None = None  # someone in the other organization

    async def user(self, organization: Organization, role: Role = Role.MEMBER) -> User:
        user = User(
            organization_id=organization.id,
            email=f"{uuid.uuid4().hex}@walk.test",
            name="Walker",
            role=role,
            password_hash=DUMMY_HASH,
            mfa_enabled_at=utcnow(),
            totp_secret="A" * 32,
        )
        self.session.add(user)
        await self.session.flush()
        return user

    async def workspace(self, organization: Organization, *members: User) -> Workspace:
        workspace = Workspace(organization_id=organization.id, name=f"ws {uuid.uuid4().hex}")
        self.session.add(workspace)
        await self.session.flush()
        self.session.add_all(WorkspaceMembership(workspace_id=workspace.id, user_id=m.id) for m in members)
        await self.session.flush()
        return workspace

    async def key(self, owner: User, **scope: Any) -> tuple[ApiKey, str]:
        new = generate_key()
        key = ApiKey(user_id=owner.id, name="walk", key_hash=new.key_hash, prefix=new.prefix, **scope)
        self.session.add(key)
        await self.session.flush()
        return key, new.secret

    async def place(
        self, resource: Resource, situation: Situation, caller: User
    ) -> tuple[str | None, Workspace | None]:
        """A fresh object of `resource` in `situation`: its id (None when nonexistent) and workspace."""
        if situation is Situation.NONEXISTENT:
            return str(uuid.uuid4()), None
        organization = self.away if situation is Situation.OTHER_ORGANIZATION else self.home
        members = (caller,) if situation is Situation.OWN_WORKSPACE else ()
        workspace = await self.workspace(organization, *members)
        if resource is Resource.API_KEY:
            owner = {Situation.OWN_WORKSPACE: caller, Situation.OTHER_WORKSPACE: self.stranger}.get(situation)
            key, _ = await self.key(owner or self.foreigner)  # type: ignore[arg-type]
            return str(key.id), workspace
        if resource is Resource.USER:
            return str((await self.user(organization)).id), workspace
        if resource is Resource.WORKSPACE:
            return str(workspace.id), workspace
        thing: Any
        if resource in {Resource.SURVEY, Resource.RESPONSE, Resource.METRICS}:
            question = Question(position=0, kind=QuestionKind.SINGLE_CHOICE, text="Pick", choices=["a", "b"])
            thing = Survey(workspace_id=workspace.id, title="Walk", status=SurveyStatus.PUBLISHED, questions=[question])
        elif resource is Resource.DASHBOARD:
            thing = Dashboard(workspace_id=workspace.id, name="Walk")
        elif resource is Resource.REPORT:
            thing = Report(workspace_id=workspace.id, name="Walk")
        else:
            return None, workspace
        self.session.add(thing)
        await self.session.flush()
        return str(thing.id), workspace


async def build_world(session: AsyncSession) -> World:
    home = Organization(name=f"home {uuid.uuid4().hex}", tier=Tier.PRO)
    away = Organization(name=f"away {uuid.uuid4().hex}", tier=Tier.PRO)
    session.add_all([home, away])
    await session.flush()
    world = World(session, home, away)
    for role in Role:
        world.callers[role] = await world.user(home, role)
    world.stranger = await world.user(home)
    world.foreigner = await world.user(away)
    return world


def declared_routes(app: Litestar) -> list[tuple[str, str, Requirement]]:
    return [
        (method, route.path, handler.opt[POLICY_OPT_KEY])
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if isinstance(handler.opt.get(POLICY_OPT_KEY), Requirement)
        for method in sorted(handler.http_methods)
    ]


def situations_for(requirement: Requirement) -> list[Situation]:
    """Routes that address no object and no workspace have one answer for every situation."""
    if is_collection(requirement.resource, requirement.action) or (requirement.resource is Resource.ACCOUNT):
        return [Situation.OWN_WORKSPACE]
    return list(Situation)


async def test_every_route_answers_what_the_matrix_says(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    config = make_db_config(make_settings(database_url))
    cells = {(r.role, r.situation, r.resource, r.action, r.credential): r for r in matrix.build()}
    routes = declared_routes(app)
    bodies = _bodies()
    mismatches: list[str] = []
    checked = 0
    try:
        async with AsyncTestClient(app) as client:
            for (method, path, requirement), role, credential in itertools.product(routes, Role, Credential):
                for situation in situations_for(requirement):
                    async with config.get_session() as session, session.begin():
                        world = await build_world(session)
                        caller = world.callers[role]
                        object_id, workspace = await world.place(requirement.locate_as, situation, caller)
                        headers = await _credential(world, caller, credential, workspace, app)
                        url = await _url(world, path, requirement, object_id, workspace)
                    response = await client.request(method, url, headers=headers, json=bodies.get(f"{method} {path}"))
                    cell = cells[(role.value, situation.value, requirement.resource.value, requirement.action.value,
                                  credential.value)]  # fmt: skip
                    outcome = _outcome(response)
                    wanted = "allowed" if cell.status == 200 else f"{cell.status} {cell.code}"
                    if outcome != wanted:
                        mismatches.append(
                            f"{method} {path} {role}/{credential}/{situation}: {outcome}, matrix {wanted}"
                        )
                    checked += 1
    finally:
        await config.get_engine().dispose()
    assert mismatches == [], f"{len(mismatches)} of {checked} requests disagree with the matrix"
    assert checked >= len(routes) * len(Role) * len(Credential)


def _outcome(response: Any) -> str:
    if response.status_code in {401, 403, 404}:
        code = response.json().get("code")
        if code in POLICY_CODES:
            return f"{response.status_code} {code}"
    return "allowed"


async def _credential(
    world: World, caller: User, credential: Credential, workspace: Workspace | None, app: Litestar
) -> dict[str, str]:
    if credential is Credential.SESSION:
        issued = app.state.auth_engine.tokens.issue(caller.id, caller.token_version, mfa_verified=True)
        return {"Authorization": f"Bearer {issued.token}"}
    scope: dict[str, Any] = {}
    if credential is Credential.READ_ONLY_KEY:
        scope["read_only"] = True
    if credential is Credential.PINNED_KEY:
        home_workspace = workspace if workspace is not None and workspace.organization_id == world.home.id else None
        pin = home_workspace if home_workspace and await _is_member(world, caller, home_workspace) else None
        scope["workspace_id"] = (pin or await world.workspace(world.home, caller)).id
    _, secret = await world.key(caller, **scope)
    return {"X-API-Key": secret}


async def _is_member(world: World, user: User, workspace: Workspace) -> bool:
    found = await world.session.scalar(
        select(WorkspaceMembership.id).where(
            WorkspaceMembership.user_id == user.id, WorkspaceMembership.workspace_id == workspace.id
        )
    )
    return found is not None


async def _url(
    world: World, path: str, requirement: Requirement, object_id: str | None, workspace: Workspace | None
) -> str:
    url = path
    if requirement.by:
        url = url.replace(f"{{{requirement.by}:uuid}}", object_id or str(uuid.uuid4()))
    if "{user_id:uuid}" in url:  # a member to remove: someone in the workspace
        member = await world.user(world.home)
        if workspace is not None:
            world.session.add(WorkspaceMembership(workspace_id=workspace.id, user_id=member.id))
            await world.session.flush()
        url = url.replace("{user_id:uuid}", str(member.id))
    needs_workspace = requirement.by is None and not is_collection(requirement.resource, requirement.action)
    if needs_workspace and requirement.resource is not Resource.ACCOUNT:
        url += f"?workspace_id={workspace.id if workspace else uuid.uuid4()}"
    return url


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
        operation = document["paths"][_openapi_path(path)][method.lower()]
        extension = operation["x-tabular-policy"]
        assert (extension["resource"], extension["action"]) == (requirement.resource.value, requirement.action.value)
        allowed = sorted(
            {r.role for r in rows if (r.resource, r.action, r.credential, r.status) ==
             (requirement.resource.value, requirement.action.value, "session", 200)}
        )  # fmt: skip
        assert sorted(extension["roles"]) == allowed, f"{method} {path}"
        assert operation["security"] == [{"apiKey": []}, {"bearer": []}, {"cookie": []}]
        assert {"401", "403", "404"} <= set(operation["responses"]), f"{method} {path}"


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
