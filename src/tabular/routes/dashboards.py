"""`/api/dashboards`: dashboards, the one view of survey numbers a client has."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from tabular.db import Dashboard, Workspace
from tabular.policies.guard import authorized
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.schemas.common import Page, Pagination
from tabular.schemas.items import DashboardCreate, DashboardDetail, DashboardUpdate, DashboardView
from tabular.services.items import DashboardService
from tabular.vocabulary import Action, Resource


class DashboardController(Controller):
    """CRUD in a workspace; `GET /{id}` embeds the current metrics of the dashboard's surveys."""

    path = "/api/dashboards"
    tags = ["dashboards"]  # noqa: RUF012
    dependencies = {"dashboards": service(DashboardService), "dashboard": authorized(Dashboard)}  # noqa: RUF012

    @get("", **requires(Resource.DASHBOARD, Action.LIST), summary="List dashboards you may see")
    async def list_dashboards(
        self,
        dashboards: NamedDependency[DashboardService],
        pagination: NamedDependency[Pagination],
        in_workspace: NamedDependency[Workspace | None],
    ) -> Page[DashboardView]:
        """Across your workspaces, or in one with `?workspace_id=`."""
        return await dashboards.listing(in_workspace, pagination)

    @post("", **requires(Resource.DASHBOARD, Action.CREATE), status_code=HTTP_201_CREATED, summary="Create a dashboard")
    async def create_dashboard(
        self,
        data: JSONBody[DashboardCreate],
        workspace: NamedDependency[Workspace],
        dashboards: NamedDependency[DashboardService],
    ) -> DashboardView:
        """In the workspace given by `?workspace_id=`, over surveys of that workspace."""
        return await dashboards.create(workspace, data)

    @get(
        "/{dashboard_id:uuid}",
        **requires(Resource.DASHBOARD, Action.READ, by="dashboard_id"),
        summary="A dashboard with its surveys' current metrics",
    )
    async def get_dashboard(
        self, dashboard: NamedDependency[Dashboard], dashboards: NamedDependency[DashboardService]
    ) -> DashboardDetail:
        """Aggregates only: counts and distributions, never a response or respondent data."""
        return await dashboards.detail(dashboard)

    @patch(
        "/{dashboard_id:uuid}",
        **requires(Resource.DASHBOARD, Action.UPDATE, by="dashboard_id"),
        summary="Change a dashboard",
    )
    async def update_dashboard(
        self,
        dashboard: NamedDependency[Dashboard],
        data: JSONBody[DashboardUpdate],
        dashboards: NamedDependency[DashboardService],
    ) -> DashboardView:
        """Only the fields sent change."""
        return await dashboards.update(dashboard, data)

    @delete(
        "/{dashboard_id:uuid}",
        **requires(Resource.DASHBOARD, Action.DELETE, by="dashboard_id"),
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a dashboard",
    )
    async def delete_dashboard(
        self, dashboard: NamedDependency[Dashboard], dashboards: NamedDependency[DashboardService]
    ) -> None:
        """The surveys stay."""
        await dashboards.delete(dashboard)
