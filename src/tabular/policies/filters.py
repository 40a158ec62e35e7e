"""List filters compiled from the same rules the guard enforces: one SQL predicate, no N+1, fail closed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, false, select

from tabular.db import Workspace
from tabular.policies.placement import PLACEMENTS
from tabular.policies.table import POLICY, PolicyTable
from tabular.vocabulary import Action, Resource, Scope

if TYPE_CHECKING:
    from tabular.auth.principal import Principal


def visible(
    principal: Principal, resource: Resource, action: Action = Action.LIST, table: PolicyTable = POLICY
) -> ColumnElement[bool]:
    """The rows of `resource` the principal may `action` (list or read): `WHERE false` when none.

    Memberships come from the principal, resolved once per request; the predicate embeds them as a
    literal IN list, so a list costs one query whatever the number of workspaces.
    """
    rule = table.rule_for(principal.role, resource, action)
    if rule is None or (rule.sessions_only and not principal.is_session):
        return false()
    placement = PLACEMENTS[resource]
    on_the_row = placement.tenant is None  # the organization column is the row's own
    predicate: ColumnElement[bool]
    if rule.scope is Scope.OWN:
        predicate = placement.owner == principal.user_id if placement.owner is not None else false()
    elif on_the_row or placement.workspace is None:  # a joined tenant (a key's owner): the query joins it
        predicate = placement.organization == principal.organization_id
    elif rule.scope is Scope.ORGANIZATION:
        in_organization = select(Workspace.id).where(Workspace.organization_id == principal.organization_id)
        predicate = placement.workspace.in_(in_organization)
    else:
        workspaces = principal.workspace_ids
        predicate = placement.workspace.in_(sorted(workspaces)) if workspaces else false()
    if rule.scope is Scope.MEMBER_WORKSPACES and on_the_row:
        workspaces = principal.workspace_ids
        predicate = predicate & (placement.workspace.in_(sorted(workspaces)) if workspaces else false())
    pin = principal.pinned_workspace_id
    if pin is not None and rule.scope is not Scope.OWN:
        predicate = predicate & (placement.workspace == pin if placement.workspace is not None else false())
    return predicate
