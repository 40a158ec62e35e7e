"""The policy table, its matrix and its artefacts, checked against an expectation written from the product spec.

`expected()` below is written from the product text ("Roles and scope", "Authentication"), not from
src/tabular/policies: if the table and the product disagree, one of these tests names the cell.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tabular.policies import matrix
from tabular.policies.matrix import Credential, Situation
from tabular.policies.requirements import POLICY_OPT_KEY, WorkspaceQuery, requires
from tabular.policies.table import DENIED_TO_ALL, RULES, Denial, PolicyTable, PolicyTableError, Rule, validate
from tabular.vocabulary import Action, Resource, Role, Scope

READS = {Action.LIST, Action.READ}
WRITES = {Action.CREATE, Action.UPDATE, Action.DELETE}
EVERYTHING = set(Action)

# The product specification, "Roles and scope", resource by resource: what each role may ever do (before scope).
MAY: dict[Role, dict[Resource, set[Action]]] = {
    Role.ADMIN: {  # "everything in their organization ... user, workspace and membership management, audit log"
        Resource.WORKSPACE: EVERYTHING,
        Resource.MEMBERSHIP: {Action.LIST, Action.CREATE, Action.DELETE},
        Resource.SURVEY: EVERYTHING,
        Resource.RESPONSE: {Action.LIST, Action.READ, Action.CREATE},  # responses are never altered
        Resource.METRICS: {Action.READ},
        Resource.DASHBOARD: EVERYTHING,
        Resource.REPORT: EVERYTHING,
        Resource.USER: {Action.LIST, Action.READ, Action.CREATE, Action.UPDATE},  # deactivate, never delete
        Resource.AUDIT_EVENT: READS,  # "read the organization's audit events"
        Resource.POLICY: {Action.LIST},  # "POST /api/policy/check and GET /api/policy — admin"
        Resource.ORGANIZATION_KEY: {Action.LIST, Action.DELETE},  # "lists every key ... by owner and can revoke any"
        Resource.WEBHOOK_ENDPOINT: EVERYTHING,  # issue 16: "endpoints registered per workspace by members and admins"
    },
    Role.MEMBER: {  # "surveys, responses, dashboards and reports in the workspaces they belong to"
        Resource.WORKSPACE: READS,  # "/api/workspaces — list own"
        Resource.SURVEY: EVERYTHING,
        Resource.RESPONSE: {Action.LIST, Action.READ, Action.CREATE},
        Resource.METRICS: {Action.READ},
        Resource.DASHBOARD: EVERYTHING,
        Resource.REPORT: EVERYTHING,
        Resource.WEBHOOK_ENDPOINT: EVERYTHING,  # update = send a delivery again
    },
    Role.CLIENT: {  # "view dashboards in the workspaces they belong to (and list those workspaces)"
        Resource.WORKSPACE: READS,
        Resource.DASHBOARD: READS,
    },
}
OWN_THINGS = {  # every role: its own keys and account ("Authentication")
    Resource.API_KEY: {Action.LIST, Action.READ, Action.CREATE, Action.UPDATE, Action.DELETE},
    Resource.ACCOUNT: {Action.READ, Action.UPDATE},
}
SESSIONS_ONLY = {
    (Resource.API_KEY, Action.CREATE),
    (Resource.API_KEY, Action.UPDATE),
    (Resource.ACCOUNT, Action.UPDATE),
}
ORGANIZATION_COLLECTIONS = {
    Resource.WORKSPACE, Resource.USER, Resource.AUDIT_EVENT, Resource.API_KEY, Resource.POLICY,
    Resource.ORGANIZATION_KEY,
}  # fmt: skip
NOT_IN_A_WORKSPACE = {
    Resource.USER, Resource.AUDIT_EVENT, Resource.MEMBERSHIP, Resource.POLICY, Resource.ORGANIZATION_KEY
}  # fmt: skip


def expected(  # noqa: C901, PLR0911 - the product's rules, one line each
    role: Role, situation: Situation, resource: Resource, action: Action, credential: Credential
) -> tuple[int, str]:
    """The status and reason the product specification implies for one cell of the matrix."""
    owned = resource in OWN_THINGS
    allowed_actions = OWN_THINGS[resource] if owned else MAY[role].get(resource, set())
    if action not in allowed_actions:
        return 403, "role_forbidden"  # "the caller's role ... do[es] not allow the action"
    is_key = credential is not Credential.SESSION
    if is_key and (resource, action) in SESSIONS_ONLY:
        return 403, "api_key_not_allowed"  # "An API key cannot create keys, manage MFA or change passwords"
    if credential is Credential.READ_ONLY_KEY and action in WRITES:
        return 403, "read_only_key"
    pinned = credential is Credential.PINNED_KEY
    if pinned and resource in NOT_IN_A_WORKSPACE:
        return 403, "outside_pinned_workspace"
    if resource in ORGANIZATION_COLLECTIONS and action in {Action.LIST, Action.CREATE}:
        if pinned and resource is Resource.WORKSPACE and action is Action.CREATE:
            return 403, "outside_pinned_workspace"
        return 200, "allowed"  # the organization (or the caller) as a whole: no object to place
    if situation in {Situation.OTHER_ORGANIZATION, Situation.NONEXISTENT}:
        return 404, "not_found"  # "another tenant's resource and a nonexistent one must be indistinguishable"
    if owned:
        return (200, "allowed") if situation is Situation.OWN_WORKSPACE else (404, "not_found")
    if resource in {Resource.USER, Resource.AUDIT_EVENT, Resource.ORGANIZATION_KEY}:
        return 200, "allowed"  # admin only, organization-wide
    if situation is Situation.OTHER_WORKSPACE and role is not Role.ADMIN:
        return 403, "not_a_member"  # "a member on a workspace they do not belong to"
    if pinned and situation is Situation.OTHER_WORKSPACE:
        return 403, "outside_pinned_workspace"  # "a workspace-pinned key sees one workspace"
    return 200, "allowed"


ALL_CELLS = [
    (role, situation, resource, action, credential)
    for role in Role
    for situation in Situation
    for resource in Resource
    for action in Action
    for credential in Credential
]


def test_the_matrix_matches_the_product_expectation() -> None:
    rows = {(r.role, r.situation, r.resource, r.action, r.credential): (r.status, r.code) for r in matrix.build()}
    assert len(rows) == len(ALL_CELLS)
    mismatches = [
        f"{cell}: matrix {rows[tuple(v.value for v in cell)]} expected {expected(*cell)}"
        for cell in ALL_CELLS
        if rows[tuple(v.value for v in cell)] != expected(*cell)
    ]
    assert mismatches == []


def test_every_rule_is_load_bearing() -> None:
    """Remove any single rule (or any single action of one): the matrix changes, so no rule is dead."""
    baseline = matrix.build()
    for index, rule in enumerate(RULES):
        for action in rule.actions:
            smaller = rule.actions - {action}
            rules = RULES[:index] + ((replace(rule, actions=smaller),) if smaller else ()) + RULES[index + 1 :]
            table = PolicyTable(
                rules,
                DENIED_TO_ALL + ((_denial(rule.resource, action),) if _orphan(rules, rule.resource, action) else ()),
            )
            assert matrix.build(table) != baseline, f"dropping {action} from {rule.id} changes nothing"


def _orphan(rules: tuple[Rule, ...], resource: Resource, action: Action) -> bool:
    return not any(rule.resource is resource and action in rule.actions for rule in rules)


def _denial(resource: Resource, action: Action) -> Denial:
    return Denial(resource, frozenset({action}), "test")


def test_a_duplicate_grant_is_refused() -> None:
    twice = (*RULES, Rule("again", Role.MEMBER, Resource.SURVEY, frozenset({Action.READ}), Scope.ORGANIZATION))
    with pytest.raises(PolicyTableError, match="both grant read on survey"):
        validate(twice, DENIED_TO_ALL)


def test_an_undecided_pair_is_refused() -> None:
    without = tuple(rule for rule in RULES if rule.resource is not Resource.METRICS)
    with pytest.raises(PolicyTableError, match="neither granted nor denied"):
        validate(without, DENIED_TO_ALL)


def test_granting_a_pair_denied_to_all_is_refused() -> None:
    more = (*RULES, Rule("alter", Role.ADMIN, Resource.AUDIT_EVENT, frozenset({Action.DELETE}), Scope.ORGANIZATION))
    with pytest.raises(PolicyTableError, match="granted and denied"):
        validate(more, DENIED_TO_ALL)


def test_policy_md_is_fresh() -> None:
    """POLICY.md is the matrix a product person reviews; regenerate with `tabular policy export --format md`."""
    committed = (Path(__file__).resolve().parents[2] / "POLICY.md").read_text(encoding="utf-8")
    assert committed == matrix.to_markdown(), (
        "POLICY.md is stale: run `uv run tabular policy export --format md --output POLICY.md`"
    )


def test_exports_have_every_cell() -> None:
    rows = matrix.build()
    assert matrix.to_csv(rows).count("\n") == len(rows) + 1
    assert matrix.to_json(rows).count('"role"') == len(rows)


@pytest.mark.parametrize(
    ("resource", "action"),
    [(Resource.SURVEY, Action.DELETE), (Resource.REPORT, Action.READ), (Resource.API_KEY, Action.DELETE),
     (Resource.USER, Action.UPDATE), (Resource.RESPONSE, Action.LIST)],
)  # fmt: skip
def test_a_declaration_naming_an_object_without_saying_where_is_refused(resource: Resource, action: Action) -> None:
    """Without `by=`, the guard would decide with no object and allow: the declaration itself fails."""
    with pytest.raises(ValueError, match="names an object"):
        requires(resource, action)


def test_collections_and_the_callers_own_account_need_no_id() -> None:
    """What each addresses instead: a workspace by `?workspace_id=` (required to create), or nothing."""
    expected = {
        (Resource.SURVEY, Action.LIST): WorkspaceQuery.OPTIONAL,
        (Resource.SURVEY, Action.CREATE): WorkspaceQuery.REQUIRED,
        (Resource.USER, Action.LIST): None,
        (Resource.ACCOUNT, Action.READ): None,
    }
    for (resource, action), query in expected.items():
        requirement = requires(resource, action)[POLICY_OPT_KEY]
        assert (requirement.by, requirement.workspace_query) == (None, query), (resource, action)
