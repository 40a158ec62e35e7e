"""Named configurations over a workspace's surveys (dashboards, reports): one CRUD for both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import msgspec
from sqlalchemy import select

from tabular.db import Dashboard, Report, Survey, Workspace
from tabular.errors import FieldError, ValidationFailed
from tabular.policies.filters import visible
from tabular.services.common import in_organization, paginate

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import Principal
    from tabular.schemas.common import Pagination
    from tabular.vocabulary import Resource

ItemT = TypeVar("ItemT", Dashboard, Report)


class WorkspaceItems(Generic[ItemT]):
    """List, create, update and delete one kind of item: the guard authorized and loaded the item or workspace."""

    model: ClassVar[type[Any]]
    resource: ClassVar[Resource]

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    async def list_visible(self, workspace: Workspace | None, pagination: Pagination) -> tuple[list[ItemT], int]:
        """The items the caller may see (in `workspace` if given), newest first, and how many there are."""
        query = select(self.model).where(visible(self.principal, self.resource))
        if workspace is not None:
            query = query.where(self.model.workspace_id == workspace.id)
        rows, total = await paginate(
            self.session, query.order_by(self.model.created_at.desc(), self.model.id.desc()), pagination
        )
        return [row[0] for row in rows], total

    async def create(self, workspace: Workspace, fields: dict[str, Any]) -> ItemT:
        """A new item in the workspace (its organization checked again); its surveys must be that workspace's."""
        in_organization(workspace, self.principal)
        await self._check_surveys(workspace.id, fields.get("survey_ids", []))
        item: ItemT = self.model(workspace_id=workspace.id, created_by_id=self.principal.user_id, **_stored(fields))
        self.session.add(item)
        await self.session.flush()
        return item

    async def update(self, item: ItemT, changes: msgspec.Struct) -> ItemT:
        """Apply the fields that were sent."""
        fields = {name: value for name, value in msgspec.structs.asdict(changes).items() if value is not msgspec.UNSET}
        if "survey_ids" in fields:
            await self._check_surveys(item.workspace_id, fields["survey_ids"])
        for name, value in _stored(fields).items():
            setattr(item, name, value)
        await self.session.flush()
        return item

    async def delete(self, item: ItemT) -> None:
        """Remove the item."""
        await self.session.delete(item)

    async def _check_surveys(self, workspace_id: UUID, survey_ids: list[UUID]) -> None:
        found = set(
            await self.session.scalars(
                select(Survey.id).where(Survey.id.in_(survey_ids), Survey.workspace_id == workspace_id)
            )
        )
        errors = [
            FieldError(message="no such survey in this workspace", field=f"survey_ids[{index}]", source="body")
            for index, survey_id in enumerate(survey_ids)
            if survey_id not in found
        ]
        if errors:
            raise ValidationFailed("Every survey must belong to the same workspace.", errors=errors)


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    """Survey ids are kept as strings in the JSON column."""
    if "survey_ids" in fields:
        fields = fields | {"survey_ids": [str(survey_id) for survey_id in dict.fromkeys(fields["survey_ids"])]}
    return fields
