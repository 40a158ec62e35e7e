"""Dashboards, and the metrics they embed."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from sqlalchemy import select

from tabular.db import Dashboard, Survey
from tabular.schemas.dashboards import DashboardDetail, DashboardView
from tabular.services.metrics import survey_metrics
from tabular.services.workspace_items import WorkspaceItems
from tabular.vocabulary import Resource

if TYPE_CHECKING:
    from tabular.schemas.metrics import SurveyMetrics


class DashboardService(WorkspaceItems[Dashboard]):
    """Dashboards in workspaces; reading one computes the current metrics of its surveys."""

    model = Dashboard
    resource = Resource.DASHBOARD

    async def detail(self, dashboard: Dashboard) -> DashboardDetail:
        """The dashboard with aggregate metrics only: a client sees numbers, never a survey or a response."""
        wanted = [UUID(survey_id) for survey_id in dashboard.survey_ids]
        in_workspace = select(Survey).where(Survey.id.in_(wanted), Survey.workspace_id == dashboard.workspace_id)
        surveys = {survey.id: survey for survey in await self.session.scalars(in_workspace)} if wanted else {}
        metrics: list[SurveyMetrics] = [
            await survey_metrics(self.session, surveys[survey_id]) for survey_id in wanted if survey_id in surveys
        ]
        return DashboardDetail(**msgspec.structs.asdict(view(dashboard)), metrics=metrics)


def view(dashboard: Dashboard) -> DashboardView:
    """A dashboard as listed."""
    return DashboardView(
        id=dashboard.id,
        workspace_id=dashboard.workspace_id,
        name=dashboard.name,
        survey_ids=[UUID(survey_id) for survey_id in dashboard.survey_ids],
        widgets=dashboard.widgets,
        created_at=dashboard.created_at,
        updated_at=dashboard.updated_at,
    )
