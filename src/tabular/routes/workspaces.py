"""`/api/workspaces`: workspaces and their members (admins manage; members and clients list their own)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from tabular.auth.engine import AuthEngine
from tabular.auth.principal import Principal
from tabular.db import Workspace
from tabular.policies.requirements import requires
from tabular.schemas.common import Page, Pagination
from tabular.schemas.workspaces import MemberAdd, MemberView, WorkspaceView, WorkspaceWrite
from tabular.services.workspaces import WorkspaceManager
from tabular.vocabulary import Action, Resource


def provide_workspace_manager(
    db_session: NamedDependency[AsyncSession], auth_engine: NamedDependency[AuthEngine]
) -> WorkspaceManager:
    """One service per request, on the request's transaction."""
    return WorkspaceManager(db_session, auth_engine.identities)


_MEMBERS = "/{workspace_id:uuid}/members"


class WorkspaceController(Controller):
    """Workspaces of the caller's organization; membership changes reach the members' next request."""

    path = "/api/workspaces"
    tags = ["workspaces"]  # noqa: RUF012
    dependencies = {"workspace_manager": Provide(provide_workspace_manager, sync_to_thread=False)}  # noqa: RUF012

    @get("", **requires(Resource.WORKSPACE, Action.LIST), summary="List workspaces")
    async def list_workspaces(
        self,
        principal: NamedDependency[Principal],
        pagination: NamedDependency[Pagination],
        workspace_manager: NamedDependency[WorkspaceManager],
    ) -> Page[WorkspaceView]:
        """An admin sees every workspace of the organization; members and clients those they belong to."""
        return await workspace_manager.list_workspaces(principal, pagination)

    @post("", **requires(Resource.WORKSPACE, Action.CREATE), status_code=HTTP_201_CREATED, summary="Create a workspace")
    async def create_workspace(
        self,
        data: JSONBody[WorkspaceWrite],
        principal: NamedDependency[Principal],
        client_ip: NamedDependency[str],
        workspace_manager: NamedDependency[WorkspaceManager],
    ) -> WorkspaceView:
        """409 `workspace_name_taken` when the organization already has a workspace of that name."""
        return await workspace_manager.create(principal, data, client_ip)

    @get(
        "/{workspace_id:uuid}",
        **requires(Resource.WORKSPACE, Action.READ, by="workspace_id"),
        summary="Get a workspace",
    )
    async def get_workspace(
        self,
        workspace: NamedDependency[Workspace],
        workspace_manager: NamedDependency[WorkspaceManager],
    ) -> WorkspaceView:
        """With its member count."""
        return await workspace_manager.get(workspace)

    @patch(
        "/{workspace_id:uuid}",
        **requires(Resource.WORKSPACE, Action.UPDATE, by="workspace_id"),
        summary="Rename a workspace",
    )
    async def rename_workspace(
        self,
        workspace: NamedDependency[Workspace],
        data: JSONBody[WorkspaceWrite],
        principal: NamedDependency[Principal],
        client_ip: NamedDependency[str],
        workspace_manager: NamedDependency[WorkspaceManager],
    ) -> WorkspaceView:
        """409 `workspace_name_taken` when another workspace of the organization has that name."""
        return await workspace_manager.rename(principal, workspace, data, client_ip)

    @delete(
        "/{workspace_id:uuid}",
        **requires(Resource.WORKSPACE, Action.DELETE, by="workspace_id"),
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete an empty workspace",
    )
    async def delete_workspace(
        self,
        workspace: NamedDependency[Workspace],
        principal: NamedDependency[Principal],
        client_ip: NamedDependency[str],
        workspace_manager: NamedDependency[WorkspaceManager],
    ) -> None:
        """409 `workspace_not_empty` while it holds surveys, dashboards or reports."""
        await workspace_manager.delete(principal, workspace, client_ip)

    @get(
        _MEMBERS,
        **requires(Resource.MEMBERSHIP, Action.LIST, by="workspace_id"),
        summary="List a workspace's members",
    )
    async def list_members(
        self,
        workspace: NamedDependency[Workspace],
        principal: NamedDependency[Principal],
        pagination: NamedDependency[Pagination],
        workspace_manager: NamedDependency[WorkspaceManager],
    ) -> Page[MemberView]:
        """By email."""
        return await workspace_manager.list_members(principal, workspace, pagination)

    @post(
        _MEMBERS,
        **requires(Resource.MEMBERSHIP, Action.CREATE, by="workspace_id"),
        status_code=HTTP_201_CREATED,
        summary="Add a member to a workspace",
    )
    async def add_member(
        self,
        workspace: NamedDependency[Workspace],
        data: JSONBody[MemberAdd],
        principal: NamedDependency[Principal],
        client_ip: NamedDependency[str],
        workspace_manager: NamedDependency[WorkspaceManager],
    ) -> MemberView:
        """The user must be of the organization (404 otherwise); 409 `already_member`."""
        return await workspace_manager.add_member(principal, workspace, data, client_ip)

    @delete(
        _MEMBERS + "/{user_id:uuid}",
        **requires(Resource.MEMBERSHIP, Action.DELETE, by="workspace_id"),
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a member from a workspace",
    )
    async def remove_member(
        self,
        workspace: NamedDependency[Workspace],
        user_id: FromPath[UUID],
        principal: NamedDependency[Principal],
        client_ip: NamedDependency[str],
        workspace_manager: NamedDependency[WorkspaceManager],
    ) -> None:
        """404 when the user is not a member; the user's next request no longer reaches the workspace."""
        await workspace_manager.remove_member(principal, workspace, user_id, client_ip)
