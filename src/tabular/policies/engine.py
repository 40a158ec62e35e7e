"""The decision: one pure function from (principal, resource, action, target) to allow or a reason.

The guard, the list filters, the exported matrix and `tabular policy explain` all call this; nothing else
decides. Order matters and is fixed: authentication (401), then what the role may ever do and with which
credential (403, the same for every id, leaking nothing), then the tenant (404: another organization's
object is indistinguishable from a missing one), then scope inside the organization (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tabular.policies.table import POLICY, PolicyTable
from tabular.policies.vocabulary import Action, Resource, Scope

if TYPE_CHECKING:
    from uuid import UUID

    from tabular.auth.principal import Principal


@dataclass(frozen=True, slots=True)
class Target:
    """Where the object (or the collection) acted on lives; None fields are "not applicable"."""

    organization_id: UUID
    workspace_id: UUID | None = None
    owner_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, the status it maps to, a stable reason code and the rule that decided."""

    allowed: bool
    status: int
    code: str
    rule: str

    @classmethod
    def allow(cls, rule: str) -> Decision:
        """Allowed by `rule`."""
        return cls(allowed=True, status=200, code="allowed", rule=rule)


def _deny(status: int, code: str, rule: str) -> Decision:
    return Decision(allowed=False, status=status, code=code, rule=rule)


WORKSPACELESS = frozenset({Resource.USER, Resource.AUDIT_EVENT, Resource.MEMBERSHIP})
"""Organization-level resources: a key pinned to one workspace cannot reach them."""


def decide(  # noqa: C901, PLR0911 - one return per reason, in the documented order
    principal: Principal | None,
    resource: Resource,
    action: Action,
    target: Target | None,
    table: PolicyTable = POLICY,
) -> Decision:
    """Decide one request. `target` None means the collection as a whole (a list without `workspace_id`)."""
    if principal is None:
        return _deny(401, "unauthenticated", "authentication")
    rule = table.rule_for(principal.role, resource, action)
    if rule is None:
        return _deny(403, "role_forbidden", f"no rule lets {principal.role} {action} {resource}")
    if rule.sessions_only and not principal.is_session:
        return _deny(403, "api_key_not_allowed", rule.id)
    if principal.read_only and action.is_write:
        return _deny(403, "read_only_key", rule.id)
    if principal.pinned_workspace_id is not None and resource in WORKSPACELESS and rule.scope is not Scope.OWN:
        return _deny(403, "outside_pinned_workspace", rule.id)
    if target is None:
        if principal.pinned_workspace_id is not None and resource is Resource.WORKSPACE and action is Action.CREATE:
            return _deny(403, "outside_pinned_workspace", rule.id)  # e.g. a pinned key creating a workspace
        return Decision.allow(rule.id)
    if target.organization_id != principal.organization_id:
        return _deny(404, "not_found", "tenant")
    if rule.scope is Scope.OWN and target.owner_id != principal.user_id:
        return _deny(404, "not_found", rule.id)  # someone else's key or account: as if it did not exist
    if target.workspace_id is not None:
        if rule.scope is Scope.MEMBER_WORKSPACES and target.workspace_id not in principal.workspace_ids:
            return _deny(403, "not_a_member", rule.id)
        pin = principal.pinned_workspace_id
        if pin is not None and target.workspace_id != pin:
            return _deny(403, "outside_pinned_workspace", rule.id)
    return Decision.allow(rule.id)
