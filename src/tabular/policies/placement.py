"""Where each resource lives — its workspace, organization and owner — written once for the whole engine.

The guard's lookup, the list filters (`visible`), collection-ness, the pinned-key rule and the matrix's
targets all read `PLACEMENTS`; adding a resource means one entry here and its rules in `table.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from tabular.db import (
    ApiKey,
    AuditEvent,
    Dashboard,
    Organization,
    Report,
    Response,
    Survey,
    User,
    WebhookEndpoint,
    Workspace,
    WorkspaceMembership,
)
from tabular.vocabulary import Action, Resource

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement


class Level(Enum):
    """What a resource is to the organization; it decides what a workspace-pinned key may reach."""

    WORKSPACE = "workspace"
    """Data in a workspace (or the workspace itself): a pinned key reaches its own workspace's."""
    ORGANIZATION = "organization"
    """The organization's administration: a pinned key never reaches it. Memberships are here, not in the
    workspace, because who may enter a workspace is not the workspace's data: a key pinned to it must not
    be able to let anyone else in."""
    OWNER = "owner"
    """The caller's own things (keys, account): reached through the owner, whatever the pin."""


@dataclass(frozen=True, slots=True)
class Placement:
    """How rows of one resource are placed, as SQL the lookup and the filters both use."""

    model: type[Any]
    level: Level
    organization: Any
    """The column holding the row's organization: on the model itself, or on the `tenant` model it joins."""
    workspace: Any = None
    """The column (or correlated expression) holding the workspace the row is in; the workspace's own id."""
    owner: Any = None
    """The column holding the user who owns the row (OWNER level)."""
    tenant: tuple[type[Any], ColumnElement[bool]] | None = None
    """The model holding `organization` and how rows join it, when the organization is not on the row."""
    within: Resource | None = None
    """The container a collection request addresses: a workspace (by `?workspace_id=`, or by path for
    memberships) or a survey (by path, for its responses and metrics)."""
    own_ids: bool = True
    """Whether objects are addressed by their own id; otherwise by their container's (a survey's responses)."""

    @property
    def in_workspace_query(self) -> bool:
        """Whether collection requests address a workspace through `?workspace_id=`."""
        return self.within is Resource.WORKSPACE and self.own_ids


def _in_workspace(model: type[Any], column: Any, **extra: Any) -> Placement:  # noqa: ANN401 - a SQL column
    """Data in a workspace: its organization is the workspace's."""
    tenant = (Workspace, Workspace.id == column)
    return Placement(model, Level.WORKSPACE, Workspace.organization_id, workspace=column, tenant=tenant, **extra)


_SURVEY_WORKSPACE: Final = select(Survey.workspace_id).where(Survey.id == Response.survey_id).scalar_subquery()

PLACEMENTS: Final[dict[Resource, Placement]] = {
    Resource.WORKSPACE: Placement(Workspace, Level.WORKSPACE, Workspace.organization_id, workspace=Workspace.id),
    Resource.MEMBERSHIP: Placement(
        WorkspaceMembership,
        Level.ORGANIZATION,
        Workspace.organization_id,
        workspace=WorkspaceMembership.workspace_id,
        tenant=(Workspace, Workspace.id == WorkspaceMembership.workspace_id),
        within=Resource.WORKSPACE,
        own_ids=False,
    ),
    Resource.SURVEY: _in_workspace(Survey, Survey.workspace_id, within=Resource.WORKSPACE),
    Resource.RESPONSE: _in_workspace(Response, _SURVEY_WORKSPACE, within=Resource.SURVEY, own_ids=False),
    Resource.METRICS: _in_workspace(Survey, Survey.workspace_id, within=Resource.SURVEY, own_ids=False),
    Resource.DASHBOARD: _in_workspace(Dashboard, Dashboard.workspace_id, within=Resource.WORKSPACE),
    Resource.REPORT: _in_workspace(Report, Report.workspace_id, within=Resource.WORKSPACE),
    Resource.WEBHOOK_ENDPOINT: _in_workspace(WebhookEndpoint, WebhookEndpoint.workspace_id, within=Resource.WORKSPACE),
    Resource.USER: Placement(User, Level.ORGANIZATION, User.organization_id),
    Resource.AUDIT_EVENT: Placement(AuditEvent, Level.ORGANIZATION, AuditEvent.organization_id),
    Resource.API_KEY: Placement(
        ApiKey, Level.OWNER, User.organization_id, owner=ApiKey.user_id, tenant=(User, User.id == ApiKey.user_id)
    ),
    Resource.ACCOUNT: Placement(User, Level.OWNER, User.organization_id, owner=User.id),
    Resource.POLICY: Placement(Organization, Level.ORGANIZATION, Organization.id),  # one policy, the organization's
    Resource.ORGANIZATION_KEY: Placement(
        ApiKey, Level.ORGANIZATION, User.organization_id, tenant=(User, User.id == ApiKey.user_id)
    ),
}


def is_collection(resource: Resource, action: Action) -> bool:
    """Whether a request for this action names no object and no container: the guard has no target.

    Listing or creating what lives in no container (workspaces, users, audit events, keys) addresses the
    organization, or the caller, as a whole.
    """
    return action in {Action.LIST, Action.CREATE} and PLACEMENTS[resource].within is None


def located_as(resource: Resource) -> Resource:
    """The resource whose id addresses objects of `resource` (a survey for its responses and metrics)."""
    placement = PLACEMENTS[resource]
    return resource if placement.own_ids or placement.within is None else placement.within
