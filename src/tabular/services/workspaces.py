"""Workspaces and memberships."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import select

from tabular.db import Workspace, WorkspaceMembership

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID


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
