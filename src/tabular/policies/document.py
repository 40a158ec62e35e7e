"""The policy as data: its table, the routes that declare it, and the matrix — `GET /api/policy` and the JSON export.

`tabular policy diff` reads two of these (or, from a revision older than this document, a bare matrix).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from tabular.policies.matrix import Row, build
from tabular.policies.table import POLICY, PolicyTable

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tabular.policies.requirements import Requirement


class RuleView(msgspec.Struct, frozen=True, kw_only=True):
    """A grant: ROLE may ACTIONS on RESOURCE within SCOPE (a key never, when `sessions_only`)."""

    id: str
    role: str
    resource: str
    actions: list[str]
    scope: str
    sessions_only: bool
    recent_password: bool


class DenialView(msgspec.Struct, frozen=True, kw_only=True):
    """Actions on a resource that no role may do, and why."""

    resource: str
    actions: list[str]
    reason: str


class RouteView(msgspec.Struct, frozen=True, kw_only=True):
    """A declared route and what it needs."""

    method: str
    path: str
    resource: str
    action: str


class PolicyDocument(msgspec.Struct, frozen=True, kw_only=True):
    """The whole policy: `matrix` has one row per role x situation x resource x action x credential."""

    rules: list[RuleView]
    denied: list[DenialView]
    routes: list[RouteView]
    matrix: list[Row]


def document(routes: Iterable[tuple[str, str, Requirement]], table: PolicyTable = POLICY) -> PolicyDocument:
    """The policy of `table` over the declared `routes` (`inventory.declared_routes(app)`).

    The views are made by keyword only (`kw_only`): a rule's two flags, side by side, cannot be swapped.
    """
    return PolicyDocument(
        rules=[
            RuleView(
                id=rule.id,
                role=rule.role.value,
                resource=rule.resource.value,
                actions=sorted(a.value for a in rule.actions),
                scope=rule.scope.value,
                sessions_only=rule.sessions_only,
                recent_password=rule.recent_password,
            )
            for rule in table.rules
        ],
        denied=[
            DenialView(resource=d.resource.value, actions=sorted(a.value for a in d.actions), reason=d.reason)
            for d in table.denied
        ],
        routes=[
            RouteView(method=method, path=path, resource=r.resource.value, action=r.action.value)
            for method, path, r in routes
        ],
        matrix=build(table),
    )


def to_json(policy: PolicyDocument) -> str:
    """The document as indented JSON, as `tabular policy export --format json` writes it."""
    return msgspec.json.format(msgspec.json.encode(policy).decode(), indent=1) + "\n"


def from_json(text: str | bytes) -> PolicyDocument:
    """A document written by `to_json`, or a bare matrix array (what exports wrote before routes were added)."""
    decoded = msgspec.json.decode(text)
    if isinstance(decoded, list):
        return PolicyDocument(rules=[], denied=[], routes=[], matrix=msgspec.convert(decoded, list[Row]))
    return msgspec.convert(decoded, PolicyDocument)
