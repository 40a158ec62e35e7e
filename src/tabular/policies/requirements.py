"""How a route states what it needs — one expression — and what OpenAPI learns from the same object.

`@get("/api/surveys/{survey_id:uuid}", **requires(Resource.SURVEY, Action.READ, by="survey_id"))` gives
the guard its requirement, and OpenAPI its security schemes, its 401/403/404 answers, the `workspace_id`
query parameter where the guard reads one, and the `x-tabular-policy` extension.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Operation, Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from tabular.errors import Problem
from tabular.policies.placement import PLACEMENTS, is_collection, located_as
from tabular.policies.table import POLICY
from tabular.vocabulary import Action, Resource

POLICY_OPT_KEY: Final = "policy"
WORKSPACE_PARAMETER: Final = "workspace_id"
SECURITY: Final[list[dict[str, list[str]]]] = [{"apiKey": []}, {"bearer": []}, {"cookie": []}]


class Public:
    """The declaration of a route anyone may call, authenticated or not."""

    def __repr__(self) -> str:
        return "PUBLIC"


PUBLIC: Final = Public()


class WorkspaceQuery(Enum):
    """Whether a route acts in the workspace named by `?workspace_id=` (read by the guard, never again)."""

    REQUIRED = "required"
    """Creating workspace data: the new object goes into that workspace."""
    OPTIONAL = "optional"
    """Listing workspace data: one workspace, or every workspace the caller may see."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a route needs: an action on a resource, addressed by a path parameter (`by`) or `workspace_id`.

    What follows from the three (`locate_as`, `workspace_query`) is worked out once, at declaration,
    not on every request.
    """

    resource: Resource
    action: Action
    by: str | None = None
    locate_as: Resource = field(init=False)
    """The resource whose id `by` holds: the object itself, or its container (a survey's responses)."""
    workspace_query: WorkspaceQuery | None = field(init=False)
    """How the route takes `?workspace_id=`: creating (required) and listing (optional) workspace data."""

    def __post_init__(self) -> None:
        query = None
        if self.by is None and PLACEMENTS[self.resource].in_workspace_query:
            query = {Action.CREATE: WorkspaceQuery.REQUIRED, Action.LIST: WorkspaceQuery.OPTIONAL}.get(self.action)
        object.__setattr__(self, "locate_as", located_as(self.resource))
        object.__setattr__(self, "workspace_query", query)

    def check(self) -> None:
        """Refuse a declaration that would let the guard decide without the object it names.

        The caller's own account is the one object a request names without an id: it is the caller.
        """
        addresses_nothing = self.by is None and self.workspace_query is None
        if (
            addresses_nothing
            and not is_collection(self.resource, self.action)
            and self.resource is not Resource.ACCOUNT
        ):
            raise ValueError(f"{self.action} on {self.resource} names an object: say which path parameter (by=)")

    def describe(self) -> dict[str, Any]:
        """The `x-tabular-policy` extension: the same facts the guard uses."""
        rules = [
            rule
            for role in POLICY.roles_allowed(self.resource, self.action)
            if (rule := POLICY.rule_for(role, self.resource, self.action))
        ]
        return {
            "resource": self.resource.value,
            "action": self.action.value,
            "roles": [rule.role.value for rule in rules],
            "scope": {rule.role.value: rule.scope.value for rule in rules},
            "sessions_only": any(rule.sessions_only for rule in rules),
        }


def public() -> dict[str, Any]:
    """Declare a handler public: `@get("/api/health", **public())`."""
    return {POLICY_OPT_KEY: PUBLIC}


def requires(resource: Resource, action: Action, *, by: str | None = None) -> dict[str, Any]:
    """Declare what a handler needs; `by` names the path parameter holding the id of what it acts on.

    Where the id is a container's (a survey for its responses, a workspace for its members), the
    placement says so; the declaration does not repeat it.
    """
    requirement = Requirement(resource, action, by)
    requirement.check()
    extension = requirement.describe()
    parameter = _workspace_parameter(requirement.workspace_query)

    class PolicyOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            if parameter is not None and parameter not in (self.parameters or []):
                self.parameters = [*(self.parameters or []), parameter]
            return super().to_schema() | {"x-tabular-policy": extension}

    return {
        POLICY_OPT_KEY: requirement,
        "security": SECURITY,
        "operation_class": PolicyOperation,
        "responses": {
            401: _problem("No credentials, or invalid, expired or revoked ones"),
            403: _problem("Authenticated, but the role, memberships or key scope do not allow this"),
            404: _problem("Does not exist, or belongs to another organization"),
        },
    }


def _workspace_parameter(query: WorkspaceQuery | None) -> Parameter | None:
    if query is None:
        return None
    required = query is WorkspaceQuery.REQUIRED
    return Parameter(
        name=WORKSPACE_PARAMETER,
        param_in="query",
        schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID),
        required=required,
        description="The workspace to create in" if required else "Only this workspace's",
    )


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(Problem, description=description, generate_examples=False)
