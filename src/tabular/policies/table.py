"""THE policy: which role may do what, where. Data, validated at import; everything else derives from it.

Read a row as "ROLE may ACTIONS on RESOURCE within SCOPE". A (role, resource, action) with no row is
refused (403) — fail closed. Pairs no role may ever do are listed in DENIED_TO_ALL with the reason,
so every resource/action pair of the vocabulary is decided on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tabular.vocabulary import Action, Resource, Role, Scope

ALL: Final = frozenset(Action)
READS: Final = frozenset({Action.LIST, Action.READ})


@dataclass(frozen=True, slots=True)
class Rule:
    """A grant. `sessions_only`: an API key may never do this, whatever its creator may.

    `recent_password`: the caller must also prove the password recently (in the request, or by a sign-in of
    the last few minutes); the service that does the step checks it, as the proof may be in the body.
    """

    id: str
    role: Role
    resource: Resource
    actions: frozenset[Action]
    scope: Scope
    sessions_only: bool = False
    recent_password: bool = False


@dataclass(frozen=True, slots=True)
class Denial:
    """Actions on a resource that no role may do, and why."""

    resource: Resource
    actions: frozenset[Action]
    reason: str


def _own_account_rules(role: Role) -> tuple[Rule, ...]:
    """Every role manages its own keys and account.

    Creating or rotating keys and changing the password or MFA need an interactive session and a recent proof
    of the password: a stolen session alone must not turn into a key, or into the thief's second factor.
    """
    name = role.value
    return (
        Rule(f"{name}.api_key.read", role, Resource.API_KEY, READS | {Action.DELETE}, Scope.OWN),
        Rule(f"{name}.api_key.issue", role, Resource.API_KEY, frozenset({Action.CREATE, Action.UPDATE}), Scope.OWN,
             sessions_only=True, recent_password=True),
        Rule(f"{name}.account.read", role, Resource.ACCOUNT, frozenset({Action.READ}), Scope.OWN),
        Rule(f"{name}.account.update", role, Resource.ACCOUNT, frozenset({Action.UPDATE}), Scope.OWN,
             sessions_only=True, recent_password=True),
    )  # fmt: skip


RULES: Final[tuple[Rule, ...]] = (
    # admin: everything in their organization, in every workspace
    Rule("admin.workspace", Role.ADMIN, Resource.WORKSPACE, ALL, Scope.ORGANIZATION),
    Rule("admin.membership", Role.ADMIN, Resource.MEMBERSHIP, frozenset({Action.LIST, Action.CREATE, Action.DELETE}),
         Scope.ORGANIZATION),
    Rule("admin.survey", Role.ADMIN, Resource.SURVEY, ALL, Scope.ORGANIZATION),
    Rule("admin.response", Role.ADMIN, Resource.RESPONSE, READS | {Action.CREATE}, Scope.ORGANIZATION),
    Rule("admin.metrics", Role.ADMIN, Resource.METRICS, frozenset({Action.READ}), Scope.ORGANIZATION),
    Rule("admin.dashboard", Role.ADMIN, Resource.DASHBOARD, ALL, Scope.ORGANIZATION),
    Rule("admin.report", Role.ADMIN, Resource.REPORT, ALL, Scope.ORGANIZATION),
    Rule("admin.user", Role.ADMIN, Resource.USER, ALL - {Action.DELETE}, Scope.ORGANIZATION),
    Rule("admin.audit_event", Role.ADMIN, Resource.AUDIT_EVENT, READS, Scope.ORGANIZATION),
    Rule("admin.policy", Role.ADMIN, Resource.POLICY, frozenset({Action.LIST}), Scope.ORGANIZATION),
    Rule("admin.organization_key", Role.ADMIN, Resource.ORGANIZATION_KEY, frozenset({Action.LIST, Action.DELETE}),
         Scope.ORGANIZATION),
    Rule("admin.webhook_endpoint", Role.ADMIN, Resource.WEBHOOK_ENDPOINT, ALL, Scope.ORGANIZATION),
    *_own_account_rules(Role.ADMIN),
    # member: surveys, responses, dashboards, reports and webhooks in the workspaces they belong to
    Rule("member.workspace", Role.MEMBER, Resource.WORKSPACE, READS, Scope.MEMBER_WORKSPACES),
    Rule("member.survey", Role.MEMBER, Resource.SURVEY, ALL, Scope.MEMBER_WORKSPACES),
    Rule("member.response", Role.MEMBER, Resource.RESPONSE, READS | {Action.CREATE}, Scope.MEMBER_WORKSPACES),
    Rule("member.metrics", Role.MEMBER, Resource.METRICS, frozenset({Action.READ}), Scope.MEMBER_WORKSPACES),
    Rule("member.dashboard", Role.MEMBER, Resource.DASHBOARD, ALL, Scope.MEMBER_WORKSPACES),
    Rule("member.report", Role.MEMBER, Resource.REPORT, ALL, Scope.MEMBER_WORKSPACES),
    Rule("member.webhook_endpoint", Role.MEMBER, Resource.WEBHOOK_ENDPOINT, ALL, Scope.MEMBER_WORKSPACES),
    *_own_account_rules(Role.MEMBER),
    # client: view dashboards in the workspaces they belong to, and list those workspaces
    Rule("client.workspace", Role.CLIENT, Resource.WORKSPACE, READS, Scope.MEMBER_WORKSPACES),
    Rule("client.dashboard", Role.CLIENT, Resource.DASHBOARD, READS, Scope.MEMBER_WORKSPACES),
    *_own_account_rules(Role.CLIENT),
)  # fmt: skip

DENIED_TO_ALL: Final[tuple[Denial, ...]] = (
    Denial(Resource.MEMBERSHIP, frozenset({Action.READ, Action.UPDATE}), "a membership has nothing to read or change"),
    Denial(Resource.RESPONSE, frozenset({Action.UPDATE, Action.DELETE}), "responses are records: never altered"),
    Denial(Resource.METRICS, ALL - {Action.READ}, "metrics are computed, never stored"),
    Denial(Resource.USER, frozenset({Action.DELETE}), "users are deactivated, never deleted"),
    Denial(Resource.AUDIT_EVENT, ALL - READS, "the audit log is append-only, written by the system"),
    Denial(Resource.ACCOUNT, frozenset({Action.LIST, Action.CREATE, Action.DELETE}), "one account per caller"),
    Denial(Resource.POLICY, ALL - {Action.LIST}, "the policy is code, changed by a release; its decisions are listed"),
    Denial(
        Resource.ORGANIZATION_KEY,
        ALL - {Action.LIST, Action.DELETE},
        "keys are made and rotated by their owners; admins review (list) and revoke them",
    ),
)


class PolicyTableError(ValueError):
    """The table contradicts itself or leaves a resource/action pair undecided."""


def validate(rules: tuple[Rule, ...] = RULES, denied: tuple[Denial, ...] = DENIED_TO_ALL) -> None:
    """No duplicate grant, no grant of a denied pair, and every resource/action pair decided."""
    seen: dict[tuple[Role, Resource, Action], str] = {}
    for rule in rules:
        if not rule.actions:
            raise PolicyTableError(f"rule {rule.id} grants nothing")
        for action in rule.actions:
            key = (rule.role, rule.resource, action)
            if key in seen:
                raise PolicyTableError(f"rules {seen[key]} and {rule.id} both grant {action} on {rule.resource}")
            seen[key] = rule.id
    ids = [rule.id for rule in rules]
    if len(ids) != len(set(ids)):
        raise PolicyTableError("rule ids must be unique")
    granted = {(resource, action) for _, resource, action in seen}
    refused = {(denial.resource, action) for denial in denied for action in denial.actions}
    if both := granted & refused:
        raise PolicyTableError(f"granted and denied to all at once: {sorted(both)}")
    if undecided := {(r, a) for r in Resource for a in Action} - granted - refused:
        raise PolicyTableError(f"neither granted nor denied to all: {sorted(undecided)}")


class PolicyTable:
    """The rules, indexed for the engine: one dictionary lookup per decision."""

    def __init__(self, rules: tuple[Rule, ...] = RULES, denied: tuple[Denial, ...] = DENIED_TO_ALL) -> None:
        validate(rules, denied)
        self.rules = rules
        self.denied = denied
        self._index = {(rule.role, rule.resource, action): rule for rule in rules for action in rule.actions}

    def rule_for(self, role: Role, resource: Resource, action: Action) -> Rule | None:
        """The one rule granting `action` on `resource` to `role`, if any."""
        return self._index.get((role, resource, action))

    def roles_allowed(self, resource: Resource, action: Action) -> list[Role]:
        """Which roles some rule lets do this (before scope and credential)."""
        return [role for role in Role if (role, resource, action) in self._index]


POLICY: Final = PolicyTable()
"""The application's table, validated when this module is imported."""
