"""The decision: one pure function from (principal, resource, action, target) to allow or a reason.

The guard, the list filters, the exported matrix, the check API, `tabular policy explain` and policy test
files all call this; nothing else decides. Order matters and is fixed: authentication (401), then what the
role may ever do and with which credential (403, the same for every id, leaking nothing), then the tenant
(404: another organization's object is indistinguishable from a missing one), then scope inside the
organization (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from tabular.policies.placement import PLACEMENTS, Level
from tabular.policies.table import POLICY, PolicyTable
from tabular.vocabulary import Action, Reason, Resource, Scope

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
    """The outcome: a reason from the closed vocabulary (which fixes the status) and the rule that decided."""

    reason: Reason
    rule: str

    @property
    def allowed(self) -> bool:
        """Whether the request may proceed."""
        return self.reason is Reason.ALLOWED

    @property
    def status(self) -> int:
        """The HTTP status of the outcome (200 when allowed)."""
        return self.reason.status

    @property
    def code(self) -> str:
        """The stable reason code a refusal carries."""
        return self.reason.value


NOT_FOUND: Final = Decision(Reason.NOT_FOUND, "tenant")
"""Another organization's object, or none: the lookup and the tenant check answer the same."""


def decide(  # noqa: C901, PLR0911 - one return per reason, in the documented order
    principal: Principal | None,
    resource: Resource,
    action: Action,
    target: Target | None,
    table: PolicyTable = POLICY,
) -> Decision:
    """Decide one request. `target` None means the collection as a whole (a list without `workspace_id`)."""
    if principal is None:
        return Decision(Reason.UNAUTHENTICATED, "authentication")
    rule = table.rule_for(principal.role, resource, action)
    if rule is None:
        return Decision(Reason.ROLE_FORBIDDEN, f"no rule lets {principal.role} {action} {resource}")
    if rule.sessions_only and not principal.is_session:
        return Decision(Reason.API_KEY_NOT_ALLOWED, rule.id)
    if principal.read_only and action.is_write:
        return Decision(Reason.READ_ONLY_KEY, rule.id)
    pin = principal.pinned_workspace_id
    placement = PLACEMENTS[resource]
    if pin is not None and placement.level is Level.ORGANIZATION and rule.scope is not Scope.OWN:
        return Decision(Reason.OUTSIDE_PINNED_WORKSPACE, rule.id)
    if pin is not None and action is Action.CREATE and placement.within is None and placement.level is Level.WORKSPACE:
        return Decision(Reason.OUTSIDE_PINNED_WORKSPACE, rule.id)  # a new workspace is outside the pinned one
    if target is None:
        return Decision(Reason.ALLOWED, rule.id)
    if target.organization_id != principal.organization_id:
        return NOT_FOUND
    if rule.scope is Scope.OWN and target.owner_id != principal.user_id:
        return Decision(Reason.NOT_FOUND, rule.id)  # someone else's key or account: as if it did not exist
    if target.workspace_id is not None:
        if rule.scope is Scope.MEMBER_WORKSPACES and target.workspace_id not in principal.workspace_ids:
            return Decision(Reason.NOT_A_MEMBER, rule.id)
        if pin is not None and target.workspace_id != pin:
            return Decision(Reason.OUTSIDE_PINNED_WORKSPACE, rule.id)
    return Decision(Reason.ALLOWED, rule.id)
