"""Workspaces and their memberships, as admins (and the demo) manage them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from tabular.db import ApiKey, Dashboard, Report, Survey, User, WebhookEndpoint, Workspace, WorkspaceMembership
from tabular.db.audit import AuditEventType
from tabular.db.base import hold
from tabular.errors import Conflict, NotFound
from tabular.policies.filters import visible
from tabular.schemas.common import wire
from tabular.schemas.workspaces import MemberView, WorkspaceView
from tabular.services.actor import Service
from tabular.services.common import page
from tabular.vocabulary import Resource

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy import Select

    from tabular.schemas.common import Page, Pagination
    from tabular.schemas.workspaces import MemberAdd, WorkspaceWrite


class WorkspaceService(Service):
    """`/api/workspaces`: acts on the workspace the guard authorized and loaded in the caller's organization."""

    async def listing(self, pagination: Pagination) -> Page[WorkspaceView]:
        """The workspaces the caller may see (admin: all of the organization), by name."""
        query = _with_member_count().where(visible(self.actor.caller, Resource.WORKSPACE))
        ordered = query.order_by(Workspace.name, Workspace.id)
        return await page(self.session, ordered, pagination, lambda row: _view(row[0], row[1]))

    async def get(self, workspace: Workspace) -> WorkspaceView:
        """The workspace the guard authorized, with its member count."""
        members = select(func.count(WorkspaceMembership.id)).where(WorkspaceMembership.workspace_id == workspace.id)
        return _view(workspace, await self.session.scalar(members) or 0)

    async def create(self, body: WorkspaceWrite, organization_id: UUID | None = None) -> WorkspaceView:
        """A new, empty workspace of the caller's organization (an operator names one).

        409 `workspace_name_taken` when the organization has one of that name.
        """
        workspace = Workspace(organization_id=organization_id or self.actor.caller.organization_id)
        await self._store(workspace, body.name)
        await self._audit(AuditEventType.WORKSPACE_CREATED, workspace, {"name": workspace.name})
        return _view(workspace, 0)

    async def rename(self, workspace: Workspace, body: WorkspaceWrite) -> WorkspaceView:
        """Give the workspace another name, unique in the organization."""
        if body.name != workspace.name:
            data = {"from": workspace.name, "to": body.name}
            await self._store(workspace, body.name)
            await self._audit(AuditEventType.WORKSPACE_RENAMED, workspace, data)
        return await self.get(workspace)

    async def delete(self, workspace: Workspace) -> None:
        """Delete an empty workspace (409 `workspace_not_empty` while it holds surveys, dashboards or reports).

        The row is held first, so a survey cannot be created in it between the check and the delete; its
        memberships, the API keys pinned to it and its webhook endpoints (with their deliveries) go with it:
        they are the workspace's settings, not its data.
        """
        if not await hold(self.session, Workspace, workspace.id):  # deleted by a concurrent request since
            raise NotFound
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
        endpoints = await self.session.scalar(select(func.count()).where(WebhookEndpoint.workspace_id == workspace.id))
        await self.session.execute(delete(Workspace).where(Workspace.id == workspace.id))
        data = {"name": workspace.name, "pinned_api_keys": len(pinned), "webhook_endpoints": endpoints}  # gone with it
        await self._audit(AuditEventType.WORKSPACE_DELETED, workspace, data)
        self.actor.forget(user_ids=members, key_hashes=pinned)

    async def list_members(self, workspace: Workspace, pagination: Pagination) -> Page[MemberView]:
        """The workspace's members, by email."""
        query = (
            _members()
            .where(WorkspaceMembership.workspace_id == workspace.id, visible(self.actor.caller, Resource.MEMBERSHIP))
            .order_by(User.email)
        )
        return await page(self.session, query, pagination, lambda row: _member_view(row[0], row[1]))

    async def add_member(self, workspace: Workspace, body: MemberAdd) -> MemberView:
        """Add a user of the organization (another organization's user is a 404); 409 `already_member`."""
        user = await self.session.scalar(
            select(User).where(User.id == body.user_id, User.organization_id == workspace.organization_id)
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
        await self._audit(AuditEventType.MEMBER_ADDED, workspace, {"user_id": str(user.id)})
        self.actor.forget(user_ids=[user.id])
        return _member_view(membership, user)

    async def remove_member(self, workspace: Workspace, user_id: UUID) -> None:
        """Remove a member: their sessions and keys lose the workspace on their next request."""
        membership = await self._membership(workspace.id, user_id)
        if membership is None:
            raise NotFound("The user is not a member of this workspace.")
        await self.session.delete(membership)
        await self.session.flush()
        await self._audit(AuditEventType.MEMBER_REMOVED, workspace, {"user_id": str(user_id)})
        self.actor.forget(user_ids=[user_id])

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

    async def _audit(self, event: AuditEventType, workspace: Workspace, data: dict[str, Any]) -> None:
        await self.actor.record(
            event, organization_id=workspace.organization_id, target=("workspace", workspace.id), data=data
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
    return wire(WorkspaceView, workspace, member_count=member_count)


def _member_view(membership: WorkspaceMembership, user: User) -> MemberView:
    return wire(MemberView, user, user_id=user.id, active=user.is_active, added_at=membership.created_at)
