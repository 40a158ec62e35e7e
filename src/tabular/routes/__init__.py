"""HTTP routes: one thin Controller module per resource."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabular.routes.audit import AuditController
from tabular.routes.auth import AuthController
from tabular.routes.dashboards import DashboardController
from tabular.routes.docs import asset
from tabular.routes.exports import ResponseExportController
from tabular.routes.health import HealthController
from tabular.routes.keys import ApiKeyController
from tabular.routes.mfa import MfaController
from tabular.routes.organization_keys import OrganizationKeyController
from tabular.routes.pages import PAGE_HANDLERS
from tabular.routes.policy import PolicyController
from tabular.routes.public import PublicSurveyController
from tabular.routes.reports import ReportController
from tabular.routes.surveys import SurveyController
from tabular.routes.users import UserController
from tabular.routes.webhooks import WebhookController
from tabular.routes.workspaces import WorkspaceController

if TYPE_CHECKING:
    from litestar.types import ControllerRouterHandler

__all__ = ["ROUTE_HANDLERS"]

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    asset,
    HealthController,
    AuthController,
    MfaController,
    ApiKeyController,
    OrganizationKeyController,
    WorkspaceController,
    UserController,
    AuditController,
    SurveyController,
    ResponseExportController,
    PublicSurveyController,
    DashboardController,
    ReportController,
    WebhookController,
    PolicyController,
    *PAGE_HANDLERS,
]
