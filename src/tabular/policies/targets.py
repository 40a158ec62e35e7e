"""Find where a request's object lives, always through the tenant filter.

Another organization's object and a missing one take the same path (no row) and become the same 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import null, select

from tabular.db import ApiKey, User, Workspace
from tabular.policies.columns import COLUMNS
from tabular.policies.engine import Target
from tabular.policies.vocabulary import Resource

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy import Result, Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import Principal


async def locate(
    session: AsyncSession, principal: Principal, resource: Resource, object_id: UUID | None, workspace_id: UUID | None
) -> Target | None:
    """The target of a request; raises LookupError when it is not in the caller's organization.

    `object_id` (a path parameter) names one object of `resource`; otherwise `workspace_id` (the query
    parameter) names the workspace a collection request is about; neither means the whole collection.
    """
    organization = principal.organization_id
    if resource is Resource.ACCOUNT:
        return Target(organization, owner_id=principal.user_id)
    if object_id is not None:
        return _found(await session.execute(_object_query(resource, object_id, organization)))
    if workspace_id is not None:
        return _found(await session.execute(_object_query(Resource.WORKSPACE, workspace_id, organization)))
    return None


def _object_query(resource: Resource, object_id: UUID, organization: UUID) -> Select[Any]:
    """SELECT organization, workspace, owner of one object, joined to its tenant."""
    if resource is Resource.WORKSPACE:
        return select(Workspace.organization_id, Workspace.id, null()).where(
            Workspace.id == object_id, Workspace.organization_id == organization
        )
    if resource is Resource.USER:
        return select(User.organization_id, null(), null()).where(
            User.id == object_id, User.organization_id == organization
        )
    if resource is Resource.API_KEY:
        return (
            select(User.organization_id, null(), ApiKey.user_id)
            .join(User, User.id == ApiKey.user_id)
            .where(ApiKey.id == object_id, User.organization_id == organization)
        )
    columns = COLUMNS[resource]
    return (
        select(Workspace.organization_id, columns.workspace, null())
        .join(Workspace, Workspace.id == columns.workspace)
        .where(columns.model.id == object_id, Workspace.organization_id == organization)
    )


def _found(result: Result[Any]) -> Target:
    row = result.first()
    if row is None:
        raise LookupError
    organization_id, workspace_id, owner_id = row
    return Target(organization_id, workspace_id=workspace_id, owner_id=owner_id)
