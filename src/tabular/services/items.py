"""Dashboards and reports, named configurations over a workspace's surveys: one CRUD for both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar
from uuid import UUID

import msgspec
from sqlalchemy import select

from tabular.db import Dashboard, Report, Survey, Workspace
from tabular.errors import FieldError, ValidationFailed
from tabular.policies.filters import visible
from tabular.schemas.common import wire
from tabular.schemas.items import DashboardDetail, DashboardView, ReportView
from tabular.services.actor import Service
from tabular.services.common import in_organization, page
from tabular.services.metrics import MetricsService
from tabular.vocabulary import Resource

if TYPE_CHECKING:
    from tabular.schemas.common import Page, Pagination

ItemT = TypeVar("ItemT", Dashboard, Report)
ViewT = TypeVar("ViewT", DashboardView, ReportView)


class WorkspaceItems(Service, Generic[ItemT, ViewT]):
    """List, create, update and delete one kind of item: the guard authorized and loaded the item or workspace."""

    model: ClassVar[type[Any]]
    view: ClassVar[type[Any]]
    resource: ClassVar[Resource]

    async def listing(self, workspace: Workspace | None, pagination: Pagination) -> Page[ViewT]:
        """The items the caller may see (in `workspace` if given), newest first."""
        query = select(self.model).where(visible(self.actor.caller, self.resource))
        if workspace is not None:
            query = query.where(self.model.workspace_id == workspace.id)
        ordered = query.order_by(self.model.created_at.desc(), self.model.id.desc())
        return await page(self.session, ordered, pagination, lambda row: self.wire(row[0]))

    async def create(self, workspace: Workspace, body: msgspec.Struct) -> ViewT:
        """A new item in the workspace (its organization checked again); its surveys must be that workspace's."""
        caller = self.actor.caller
        in_organization(workspace, caller)
        fields = msgspec.structs.asdict(body)
        await self._check_surveys(workspace.id, fields["survey_ids"])
        item = self.model(workspace_id=workspace.id, created_by_id=caller.user_id, **_stored(fields))
        self.session.add(item)
        await self.session.flush()
        return self.wire(item)

    async def update(self, item: ItemT, changes: msgspec.Struct) -> ViewT:
        """Apply the fields that were sent."""
        fields = {name: value for name, value in msgspec.structs.asdict(changes).items() if value is not msgspec.UNSET}
        if "survey_ids" in fields:
            await self._check_surveys(item.workspace_id, fields["survey_ids"])
        for name, value in _stored(fields).items():
            setattr(item, name, value)
        await self.session.flush()
        return self.wire(item)

    def wire(self, item: ItemT) -> ViewT:
        """The item as the API shows it."""
        view: ViewT = wire(self.view, item)
        return view

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


class DashboardService(WorkspaceItems[Dashboard, DashboardView]):
    """Dashboards in workspaces; reading one computes the current metrics of its surveys."""

    model = Dashboard
    view = DashboardView
    resource = Resource.DASHBOARD

    async def detail(self, dashboard: Dashboard) -> DashboardDetail:
        """The dashboard with aggregate metrics only, as the caller may see them: never a response."""
        wanted = [UUID(survey_id) for survey_id in dashboard.survey_ids]
        in_workspace = select(Survey).where(Survey.id.in_(wanted), Survey.workspace_id == dashboard.workspace_id)
        surveys = {survey.id: survey for survey in await self.session.scalars(in_workspace)} if wanted else {}
        of = MetricsService(self.actor).of
        metrics = [await of(surveys[s]) for s in wanted if s in surveys]
        return wire(DashboardDetail, dashboard, metrics=metrics)


class ReportService(WorkspaceItems[Report, ReportView]):
    """Reports in workspaces, for members and admins."""

    model = Report
    view = ReportView
    resource = Resource.REPORT
