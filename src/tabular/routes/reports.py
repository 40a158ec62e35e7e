"""`/api/reports`: reports over a workspace's surveys, for members and admins."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tabular.db import Report, Workspace
from tabular.policies.guard import authorized
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.schemas.common import Page, Pagination
from tabular.schemas.items import ReportCreate, ReportUpdate, ReportView
from tabular.services.items import ReportService
from tabular.vocabulary import Action, Resource


class ReportController(Controller):
    """CRUD in a workspace, for members and admins."""

    path = "/api/reports"
    tags = ["reports"]  # noqa: RUF012
    dependencies = {"reports": service(ReportService), "report": authorized(Report)}  # noqa: RUF012

    @get("", **requires(Resource.REPORT, Action.LIST), summary="List reports you may see")
    async def list_reports(
        self,
        reports: NamedDependency[ReportService],
        pagination: NamedDependency[Pagination],
        in_workspace: NamedDependency[Workspace | None],
    ) -> Page[ReportView]:
        """Across your workspaces, or in one with `?workspace_id=`."""
        return await reports.listing(in_workspace, pagination)

    @post("", **requires(Resource.REPORT, Action.CREATE), status_code=HTTP_201_CREATED, summary="Create a report")
    async def create_report(
        self,
        data: JSONBody[ReportCreate],
        workspace: NamedDependency[Workspace],
        reports: NamedDependency[ReportService],
    ) -> ReportView:
        """In the workspace given by `?workspace_id=`, over surveys of that workspace."""
        return await reports.create(workspace, data)

    @get("/{report_id:uuid}", **requires(Resource.REPORT, Action.READ, by="report_id"), summary="A report")
    async def get_report(self, report: NamedDependency[Report], reports: NamedDependency[ReportService]) -> ReportView:
        """One report."""
        return reports.wire(report)

    @patch("/{report_id:uuid}", **requires(Resource.REPORT, Action.UPDATE, by="report_id"), summary="Change a report")
    async def update_report(
        self,
        report: NamedDependency[Report],
        data: JSONBody[ReportUpdate],
        reports: NamedDependency[ReportService],
    ) -> ReportView:
        """Only the fields sent change."""
        return await reports.update(report, data)

    @delete(
        "/{report_id:uuid}",
        **requires(Resource.REPORT, Action.DELETE, by="report_id"),
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a report",
    )
    async def delete_report(self, report: NamedDependency[Report], reports: NamedDependency[ReportService]) -> None:
        """The surveys stay."""
        await reports.delete(report)
