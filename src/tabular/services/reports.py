"""Reports."""

from __future__ import annotations

from uuid import UUID

from tabular.db import Report
from tabular.schemas.reports import ReportView
from tabular.services.workspace_items import WorkspaceItems
from tabular.vocabulary import Resource


class ReportService(WorkspaceItems[Report]):
    """Reports in workspaces, for members and admins."""

    model = Report
    resource = Resource.REPORT


def view(report: Report) -> ReportView:
    """A report as returned."""
    return ReportView(
        id=report.id,
        workspace_id=report.workspace_id,
        name=report.name,
        survey_ids=[UUID(survey_id) for survey_id in report.survey_ids],
        config=report.config,
        created_at=report.created_at,
        updated_at=report.updated_at,
    )
