"""Where each resource keeps its workspace, organization and owner: the one map from policy to SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from tabular.db import (
    ApiKey,
    AuditEvent,
    Dashboard,
    Report,
    Response,
    Survey,
    User,
    Workspace,
    WorkspaceMembership,
)
from tabular.policies.vocabulary import Action, Resource

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute


@dataclass(frozen=True, slots=True)
class Columns:
    """How rows of a resource's model relate to scope; `workspace` may be a subquery path."""

    model: type[Any]
    workspace: Any = None
    """A column (or correlated expression) holding the row's workspace id."""
    organization: InstrumentedAttribute[Any] | None = None
    owner: InstrumentedAttribute[Any] | None = None


ORGANIZATION_COLLECTIONS: Final = frozenset({Resource.WORKSPACE, Resource.USER, Resource.AUDIT_EVENT, Resource.API_KEY})
"""Resources listed and created for the organization (or the caller) as a whole, not in a workspace."""


def is_collection(resource: Resource, action: Action) -> bool:
    """Whether a request for this action names no object and no workspace: the guard has no target."""
    return resource in ORGANIZATION_COLLECTIONS and action in {Action.LIST, Action.CREATE}


_SURVEY_WORKSPACE: Final = select(Survey.workspace_id).where(Survey.id == Response.survey_id).scalar_subquery()

COLUMNS: Final[dict[Resource, Columns]] = {
    Resource.WORKSPACE: Columns(Workspace, workspace=Workspace.id, organization=Workspace.organization_id),
    Resource.MEMBERSHIP: Columns(WorkspaceMembership, workspace=WorkspaceMembership.workspace_id),
    Resource.SURVEY: Columns(Survey, workspace=Survey.workspace_id),
    Resource.RESPONSE: Columns(Response, workspace=_SURVEY_WORKSPACE),
    Resource.METRICS: Columns(Survey, workspace=Survey.workspace_id),
    Resource.DASHBOARD: Columns(Dashboard, workspace=Dashboard.workspace_id),
    Resource.REPORT: Columns(Report, workspace=Report.workspace_id),
    Resource.USER: Columns(User, organization=User.organization_id),
    Resource.AUDIT_EVENT: Columns(AuditEvent, organization=AuditEvent.organization_id),
    Resource.API_KEY: Columns(ApiKey, owner=ApiKey.user_id),
    Resource.ACCOUNT: Columns(User, owner=User.id),
}
