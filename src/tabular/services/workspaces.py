"""Workspaces and memberships: the demo's helpers, and the organization's workspaces as the API manages them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, InvalidRequestError

from tabular.db import ApiKey, Dashboard, Report, Survey, User, Workspace, WorkspaceMembership
from tabular.errors import Conflict, NotFound
from tabular.policies.filters import visible
from tabular.schemas.common import Page
from tabular.schemas.workspaces import MemberView, WorkspaceView
from tabular.services.audit import AuditEventType, record_by
from tabular.services.common import clean_name, paginate
from tabular.vocabulary import Resource

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.identities import IdentityStore
    from tabular.auth.principal import Principal
    from tabular.schemas.common import Pagination
    from tabular.schemas.workspaces import MemberAdd, WorkspaceWrite


class WorkspaceService(SQLAlchemyAsyncRepositoryService[Workspace]):
    """Creates workspaces and manages who belongs to them."""

    class Repository(SQLAlchemyAsyncRepository[Workspace]):
        """Workspace rows."""

        model_type = Workspace

    repository_type = Repository

    async def get_or_create(self, organization_id: UUID, name: str) -> Workspace:
        """The workspace called `name` in the organization, created if missing."""
        workspace = await self.get_one_or_none(organization_id=organization_id, name=name)
        return workspace or await self.create(Workspace(organization_id=organization_id, name=name))

    async def ensure_members(self, workspace_id: UUID, user_ids: Iterable[UUID]) -> None:
        """Add the users to the workspace; those already members stay as they are."""
        session = self.repository.session
        present = set(
            await session.scalars(
                select(WorkspaceMembership.user_id).where(WorkspaceMembership.workspace_id == workspace_id)
            )
        )
        session.add_all(
            WorkspaceMembership(workspace_id=workspace_id, user_id=user_id)
            for user_id in dict.fromkeys(user_ids)
            if user_id not in present
        )
        await session.flush()


class WorkspaceManager:
    """`/api/workspaces`: acts on the workspace the guard authorized and loaded in the caller's organization."""

    def __init__(self, session: AsyncSession, identities: IdentityStore) -> None:
        self.session = session
        self.identities = identities

    async def list_workspaces(self, principal: Principal, pagination: Pagination) -> Page[WorkspaceView]:
        """The workspaces the principal may see (admin: all of the organization), by name."""
        query = _with_member_count().where(visible(principal, Resource.WORKSPACE))
        rows, total = await paginate(self.session, query.order_by(Workspace.name, Workspace.id), pagination)
        items = [_view(workspace, count) for workspace, count in rows]
        return Page(items=items, total=total, limit=pagination.limit, offset=pagination.offset)

    async def get(self, workspace: Workspace) -> WorkspaceView:
        """The workspace the guard authorized, with its member count."""
        members = select(func.count(WorkspaceMembership.id)).where(WorkspaceMembership.workspace_id == workspace.id)
        return _view(workspace, await self.session.scalar(members) or 0)

    async def create(self, principal: Principal, body: WorkspaceWrite, client_ip: str) -> WorkspaceView:
        """A new, empty workspace; 409 `workspace_name_taken` when the organization has one of that name."""
        workspace = Workspace(organization_id=principal.organization_id)
        await self._store(workspace, clean_name(body.name))
        await self._audit(principal, AuditEventType.WORKSPACE_CREATED, workspace, client_ip, {"name": workspace.name})
        return _view(workspace, 0)

    async def rename(
        self, principal: Principal, workspace: Workspace, body: WorkspaceWrite, client_ip: str
    ) -> WorkspaceView:
        """Give the workspace another name, unique in the organization."""
        name = clean_name(body.name)
        if name != workspace.name:
            data = {"from": workspace.name, "to": name}
            await self._store(workspace, name)
            await self._audit(principal, AuditEventType.WORKSPACE_RENAMED, workspace, client_ip, data)
        return await self.get(workspace)

    async def delete(self, principal: Principal, workspace: Workspace, client_ip: str) -> None:
        """Delete an empty workspace (409 `workspace_not_empty` while it holds surveys, dashboards or reports).

        The row is locked first, so a survey cannot be created in it between the check and the delete; its
        memberships and the API keys pinned to it go with it.
        """
        try:
            await self.session.refresh(workspace, with_for_update=True)  # lock the row the guard loaded
        except InvalidRequestError:  # deleted by a concurrent request since
            raise NotFound from None
        for model in (Survey, Dashboard, Report):
            if await self.session.scalar(select(model.id).where(model.workspace_id == workspace.id).limit(1)):
                raise Conflict(
                    "The workspace still holds surveys, dashboards or reports; delete them first.",
                    code="workspace_not_empty",
                )
        members = list(
            await self.session.scalars(
                select(WorkspaceMembership.user_id).where(WorkspaceMembership.workspace_id == workspace.id)
            )
        )
        pinned = list(await self.session.scalars(select(ApiKey.key_hash).where(ApiKey.workspace_id == workspace.id)))
        await self.session.execute(delete(Workspace).where(Workspace.id == workspace.id))
        data = {"name": workspace.name, "pinned_api_keys": len(pinned)}  # deleted with it: keys pinned there
        await self._audit(principal, AuditEventType.WORKSPACE_DELETED, workspace, client_ip, data)

        self.identities.forget_on_commit(self.session, user_ids=members, key_hashes=pinned)

    async def list_members(
        self, principal: Principal, workspace: Workspace, pagination: Pagination
    ) -> Page[MemberView]:
        """The workspace's members, by email."""
        query = (
            _members()
            .where(WorkspaceMembership.workspace_id == workspace.id, visible(principal, Resource.MEMBERSHIP))
            .order_by(User.email)
        )
        rows, total = await paginate(self.session, query, pagination)
        items = [_member_view(membership, user) for membership, user in rows]
        return Page(items=items, total=total, limit=pagination.limit, offset=pagination.offset)

    async def add_member(
        self, principal: Principal, workspace: Workspace, body: MemberAdd, client_ip: str
    ) -> MemberView:
        """Add a user of the organization (another organization's user is a 404); 409 `already_member`."""
        user = await self.session.scalar(
            select(User).where(User.id == body.user_id, User.organization_id == principal.organization_id)
        )
        if user is None:
            raise NotFound("No such user in your organization.")
        if await self._membership(workspace.id, user.id) is not None:
            raise Conflict("The user is already a member of this workspace.", code="already_member")
        membership = WorkspaceMembership(workspace_id=workspace.id, user_id=user.id)
        try:
            async with self.session.begin_nested():
                self.session.add(membership)
        except IntegrityError:  # added by a concurrent request since the check
            raise Conflict("The user is already a member of this workspace.", code="already_member") from None
        data = {"user_id": str(user.id)}
        await self._audit(principal, AuditEventType.MEMBER_ADDED, workspace, client_ip, data)
        self.identities.forget_on_commit(self.session, user_ids=[user.id])
        return _member_view(membership, user)

    async def remove_member(self, principal: Principal, workspace: Workspace, user_id: UUID, client_ip: str) -> None:
        """Remove a member: their sessions and keys lose the workspace on their next request."""
        membership = await self._membership(workspace.id, user_id)
        if membership is None:
            raise NotFound("The user is not a member of this workspace.")
        await self.session.delete(membership)
        await self.session.flush()
        data = {"user_id": str(user_id)}
        await self._audit(principal, AuditEventType.MEMBER_REMOVED, workspace, client_ip, data)
        self.identities.forget_on_commit(self.session, user_ids=[user_id])

    async def _membership(self, workspace_id: UUID, user_id: UUID) -> WorkspaceMembership | None:
        membership: WorkspaceMembership | None = await self.session.scalar(
            select(WorkspaceMembership).where(
                WorkspaceMembership.workspace_id == workspace_id, WorkspaceMembership.user_id == user_id
            )
        )
        return membership

    async def _store(self, workspace: Workspace, name: str) -> None:
        """Insert, or rename to `name`; a name used in the organization is a 409, also when a racer took it."""
        taken = Conflict("The organization already has a workspace of that name.", code="workspace_name_taken")
        duplicate = select(Workspace.id).where(
            Workspace.organization_id == workspace.organization_id, Workspace.name == name
        )
        if await self.session.scalar(duplicate.limit(1)) is not None:
            raise taken
        try:
            async with self.session.begin_nested():
                workspace.name = name
                self.session.add(workspace)
        except IntegrityError:
            raise taken from None

    async def _audit(
        self,
        principal: Principal,
        event_type: AuditEventType,
        workspace: Workspace,
        client_ip: str,
        data: dict[str, Any],
    ) -> None:
        await record_by(
            self.session, event_type, principal, client_ip, target_type="workspace", target_id=workspace.id, data=data
        )


def _with_member_count() -> Select[tuple[Workspace, int]]:
    count = (
        select(func.count(WorkspaceMembership.id))
        .where(WorkspaceMembership.workspace_id == Workspace.id)
        .correlate(Workspace)
        .scalar_subquery()
    )
    return select(Workspace, count.label("member_count"))


def _members() -> Select[tuple[WorkspaceMembership, User]]:
    return select(WorkspaceMembership, User).join(User, User.id == WorkspaceMembership.user_id)


def _view(workspace: Workspace, member_count: int) -> WorkspaceView:
    return WorkspaceView(
        id=workspace.id,
        name=workspace.name,
        member_count=member_count,
        created_at=workspace.created_at,
        updated_at=workspace.updated_at,
    )


def _member_view(membership: WorkspaceMembership, user: User) -> MemberView:
    return MemberView(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        active=user.is_active,
        added_at=membership.created_at,
    )
