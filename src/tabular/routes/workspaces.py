"""`/api/workspaces`: workspaces and their members (admins manage; members and clients list their own)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tabular.db import Workspace
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.schemas.common import Page, Pagination
from tabular.schemas.workspaces import MemberAdd, MemberView, WorkspaceView, WorkspaceWrite
from tabular.services.workspaces import WorkspaceService
from tabular.vocabulary import Action, Resource

_MEMBERS = "/{workspace_id:uuid}/members"
NAME_TAKEN = "The organization already has a workspace of that name (`workspace_name_taken`)"

NOT_EMPTY = "It still holds surveys, dashboards or reports (`workspace_not_empty`)"
ALREADY_MEMBER = "The user is already a member (`already_member`)"


class WorkspaceController(Controller):
    """Workspaces of the caller's organization; membership changes reach the members' next request.

    Handlers by a workspace id receive the `workspace` the guard authorized and loaded.
    """

    path = "/api/workspaces"
    tags = ["workspaces"]  # noqa: RUF012
    dependencies = {"workspaces": service(WorkspaceService)}  # noqa: RUF012

    @get("", **requires(Resource.WORKSPACE, Action.LIST), summary="List workspaces")
    async def list_workspaces(
        self, pagination: NamedDependency[Pagination], workspaces: NamedDependency[WorkspaceService]
    ) -> Page[WorkspaceView]:
        """An admin sees every workspace of the organization; members and clients those they belong to."""
        return await workspaces.listing(pagination)

    @post(
        "",
        **requires(Resource.WORKSPACE, Action.CREATE, problems={409: NAME_TAKEN}),
        status_code=HTTP_201_CREATED,
        summary="Create a workspace",
    )
    async def create_workspace(
        self, data: JSONBody[WorkspaceWrite], workspaces: NamedDependency[WorkspaceService]
    ) -> WorkspaceView:
        """409 `workspace_name_taken` when the organization already has a workspace of that name."""
        return await workspaces.create(data)

    @get(
        "/{workspace_id:uuid}",
        **requires(Resource.WORKSPACE, Action.READ, by="workspace_id"),
        summary="Get a workspace",
    )
    async def get_workspace(
        self, workspace: NamedDependency[Workspace], workspaces: NamedDependency[WorkspaceService]
    ) -> WorkspaceView:
        """With its member count."""
        return await workspaces.get(workspace)

    @patch(
        "/{workspace_id:uuid}",
        **requires(Resource.WORKSPACE, Action.UPDATE, by="workspace_id", problems={409: NAME_TAKEN}),
        summary="Rename a workspace",
    )
    async def rename_workspace(
        self,
        workspace: NamedDependency[Workspace],
        data: JSONBody[WorkspaceWrite],
        workspaces: NamedDependency[WorkspaceService],
    ) -> WorkspaceView:
        """409 `workspace_name_taken` when another workspace of the organization has that name."""
        return await workspaces.rename(workspace, data)

    @delete(
        "/{workspace_id:uuid}",
        **requires(Resource.WORKSPACE, Action.DELETE, by="workspace_id", problems={409: NOT_EMPTY}),
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete an empty workspace",
    )
    async def delete_workspace(
        self, workspace: NamedDependency[Workspace], workspaces: NamedDependency[WorkspaceService]
    ) -> None:
        """409 `workspace_not_empty` while it holds surveys, dashboards or reports."""
        await workspaces.delete(workspace)

    @get(
        _MEMBERS, **requires(Resource.MEMBERSHIP, Action.LIST, by="workspace_id"), summary="List a workspace's members"
    )
    async def list_members(
        self,
        workspace: NamedDependency[Workspace],
        pagination: NamedDependency[Pagination],
        workspaces: NamedDependency[WorkspaceService],
    ) -> Page[MemberView]:
        """By email."""
        return await workspaces.list_members(workspace, pagination)

    @post(
        _MEMBERS,
        **requires(Resource.MEMBERSHIP, Action.CREATE, by="workspace_id", problems={409: ALREADY_MEMBER}),
        status_code=HTTP_201_CREATED,
        summary="Add a member to a workspace",
    )
    async def add_member(
        self,
        workspace: NamedDependency[Workspace],
        data: JSONBody[MemberAdd],
        workspaces: NamedDependency[WorkspaceService],
    ) -> MemberView:
        """The user must be of the organization (404 otherwise); 409 `already_member`."""
        return await workspaces.add_member(workspace, data)

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
        workspaces: NamedDependency[WorkspaceService],
    ) -> None:
        """404 when the user is not a member; the user's next request no longer reaches the workspace."""
        await workspaces.remove_member(workspace, user_id)
