"""The policy tests' world: two organizations, a caller per role, fresh objects placed in any situation.

Objects are placed as `PLACEMENTS` says (owned, in the organization, in a workspace), so a new resource
needs a factory here only when its model is new.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

from argon2 import PasswordHasher
from sqlalchemy import select

from tabular.db import (
    ApiKey,
    Dashboard,
    Organization,
    QuestionKind,
    Report,
    Survey,
    User,
    WebhookEndpoint,
    Workspace,
    WorkspaceMembership,
)
from tabular.policies.matrix import Credential, Situation
from tabular.policies.placement import PLACEMENTS, Level
from tabular.vocabulary import Resource, Role
from tests.support.db import committed_session
from tests.support.factories import (
    new_api_key,
    new_dashboard,
    new_organization,
    new_report,
    new_survey,
    new_user,
    new_webhook_endpoint,
    new_workspace,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from uuid import UUID

    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.policies.requirements import Requirement

T = TypeVar("T")
UNKNOWN_PASSWORD_HASH: Final = PasswordHasher().hash(secrets.token_urlsafe(16))
"""The walk's users sign in by token, never by password: a hash whose password no one knows."""


def bodies_for_routes() -> dict[str, Any]:
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
        "POST /api/webhooks": {"url": "https://93.184.216.34/walk", "events": ["response.created"]},
        "POST /api/webhooks/{endpoint_id:uuid}/resend": {"delivery_id": str(uuid.uuid4())},
    }  # fmt: skip


@dataclass
class World:
    """Two organizations, callers by role, and factories for fresh objects in any situation."""

    session: AsyncSession
    home: Organization
    away: Organization
    callers: dict[Role, User] = field(default_factory=dict)
    others: dict[UUID, User] = field(default_factory=dict)
    """By organization: someone there who is none of the callers (made on first use)."""

    async def someone_else(self, organization: Organization) -> User:
        """A member of `organization` who is none of the callers: the owner of another's key or account."""
        if organization.id not in self.others:
            self.others[organization.id] = await self.user(organization)
        return self.others[organization.id]

    async def user(self, organization: Organization, role: Role = Role.MEMBER) -> User:
        """A user with MFA on whose password no one knows: the walk issues their sessions directly."""
        return await new_user(
            self.session,
            organization,
            name="Walker",
            role=role,
            password_hash=UNKNOWN_PASSWORD_HASH,
            totp_secret="A" * 32,
        )

    async def workspace(self, organization: Organization, *members: User) -> Workspace:
        return await new_workspace(self.session, organization, *members)

    async def key(self, owner: User, **scope: Any) -> tuple[ApiKey, str]:
        return await new_api_key(self.session, owner, name="walk", **scope)

    async def place(
        self, resource: Resource, situation: Situation, caller: User
    ) -> tuple[str | None, Workspace | None]:
        """A fresh object of `resource` in `situation`, placed as its placement says: its id (None when
        nonexistent) and the workspace of the situation."""
        if situation is Situation.NONEXISTENT:
            return str(uuid.uuid4()), None
        organization = self.away if situation is Situation.OTHER_ORGANIZATION else self.home
        members = (caller,) if situation is Situation.OWN_WORKSPACE else ()
        workspace = await self.workspace(organization, *members)
        placement = PLACEMENTS[resource]
        if placement.level is Level.OWNER:  # "own" is the caller's; "other" someone else's, here or away
            owner = caller if situation is Situation.OWN_WORKSPACE else await self.someone_else(organization)
            thing = await self.owned(placement.model, owner)
        elif placement.model is Workspace:
            thing = workspace
        elif placement.workspace is None:
            thing = await self.in_organization(placement.model, organization)
        else:
            thing = await self.in_workspace(placement.model, workspace)
        return (None if thing is None else str(thing.id)), workspace

    async def url(self, path: str, requirement: Requirement, object_id: str | None, workspace: Workspace | None) -> str:
        """`path` for a request on the object `place` made: its id (a random one for None), and where the path
        names a member to remove, someone in that workspace; `?workspace_id=` where the route reads it."""
        url = path
        if requirement.by:
            url = url.replace(f"{{{requirement.by}:uuid}}", object_id or str(uuid.uuid4()))
        if "{user_id:uuid}" in url:  # a member to remove: someone of the workspace's organization, in it
            away = workspace is not None and workspace.organization_id == self.away.id
            member = await self.user(self.away if away else self.home)
            if workspace is not None:
                self.session.add(WorkspaceMembership(workspace_id=workspace.id, user_id=member.id))
                await self.session.flush()
            url = url.replace("{user_id:uuid}", str(member.id))
        if requirement.workspace_query is not None:
            url += f"?workspace_id={workspace.id if workspace else uuid.uuid4()}"
        return url

    async def credential(
        self, caller: User, credential: Credential, workspace: Workspace | None, app: Litestar
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Headers authenticating `caller` as `credential` (a key pinned to the situation's workspace when the
        caller belongs to it, else to one of their own), and the subject naming that credential in a policy
        check (the user for a session, the key by id)."""
        if credential is Credential.SESSION:
            issued = app.state.auth_engine.tokens.issue(caller.id, caller.token_version, mfa_verified=True)
            return {"Authorization": f"Bearer {issued.token}"}, {"user_id": str(caller.id)}
        scope: dict[str, Any] = {}
        if credential is Credential.READ_ONLY_KEY:
            scope["read_only"] = True
        if credential is Credential.PINNED_KEY:
            home = workspace if workspace is not None and workspace.organization_id == self.home.id else None
            pin = home if home and await self.is_member(caller, home) else None
            scope["workspace_id"] = (pin or await self.workspace(self.home, caller)).id
        key, secret = await self.key(caller, **scope)
        return {"X-API-Key": secret}, {"api_key_id": str(key.id)}

    async def is_member(self, user: User, workspace: Workspace) -> bool:
        found = await self.session.scalar(
            select(WorkspaceMembership.id).where(
                WorkspaceMembership.user_id == user.id, WorkspaceMembership.workspace_id == workspace.id
            )
        )
        return found is not None

    async def owned(self, model: type[Any], owner: User) -> Any:
        if model is User:  # the caller's account is the caller
            return owner
        assert model is ApiKey, f"no factory for {model} owned by a user"
        key, _ = await self.key(owner)
        return key

    async def in_organization(self, model: type[Any], organization: Organization) -> Any:
        if model is ApiKey:  # an organization's key, as its admins review them: someone else's
            key, _ = await self.key(await self.someone_else(organization))
            return key
        if model is not User:
            return None  # audit events: no route names one, and the system alone writes them
        return await self.user(organization)

    async def in_workspace(self, model: type[Any], workspace: Workspace) -> Any:
        if model is Survey:
            question = {"kind": QuestionKind.SINGLE_CHOICE, "text": "Pick", "choices": ["a", "b"]}
            return await new_survey(self.session, workspace, title="Walk", questions=[question])
        if model is WebhookEndpoint:
            return await new_webhook_endpoint(self.session, workspace)
        factory = {Dashboard: new_dashboard, Report: new_report}[model]
        return await factory(self.session, workspace, name="Walk")


async def build_world(session: AsyncSession, roles: Iterable[Role] = tuple(Role)) -> World:
    """Two fresh organizations and a caller of each of `roles` in the first (the route walk, one cell at a
    time, asks for the one role it needs: a world per request stays cheap)."""
    world = World(session, await new_organization(session), await new_organization(session))
    for role in roles:
        world.callers[role] = await world.user(world.home, role)
    return world


async def in_new_world(database_url: str, setup: Callable[[World], Awaitable[T]]) -> T:
    """Build a world in the database and run `setup` on it, in one committed transaction; `setup`'s answer."""
    async with committed_session(database_url) as session:
        return await setup(await build_world(session))
