"""How a route states what it needs — one expression — and what OpenAPI learns from the same object.

`@get("/api/surveys/{survey_id:uuid}", **requires(Resource.SURVEY, Action.READ, by="survey_id"))` gives
the guard its requirement, and OpenAPI its security schemes, every error answer (`contract.complete`),
the `workspace_id` query parameter where the guard reads one, and the `x-tabular-policy` extension.
A handler adds only what is its own: the conflicts it can answer (`problems={409: "..."}`) and whether
it sets the session cookies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Final

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Operation, Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from tabular.errors import Problem
from tabular.policies.contract import complete
from tabular.policies.placement import PLACEMENTS, is_collection, located_as
from tabular.policies.table import POLICY
from tabular.vocabulary import Action, Resource

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tabular.policies.table import Rule

POLICY_OPT_KEY: Final = "policy"
WORKSPACE_PARAMETER: Final = "workspace_id"
SECURITY: Final[list[dict[str, list[str]]]] = [{"apiKey": []}, {"bearer": []}, {"cookie": []}]


Problems = tuple[tuple[int, str], ...]
"""A handler's own problem answers (status, what it means), beyond those its declaration implies."""


@dataclass(frozen=True, slots=True)
class Public:
    """The declaration of a route anyone may call, authenticated or not."""

    rate_limited: bool = True
    """False for the health probes only: an orchestrator must always reach them."""
    problems: Problems = ()
    sets_cookies: bool = False
    database: bool = True
    """False for the liveness probe only: it answers without the database, so never `database_unavailable`."""
    authenticated: ClassVar[bool] = False
    locates: ClassVar[bool] = False
    recent_password: ClassVar[bool] = False

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
    problems: Problems = ()
    sets_cookies: bool = False
    rate_limited: ClassVar[bool] = True
    authenticated: ClassVar[bool] = True
    database: ClassVar[bool] = True
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

    @property
    def recent_password(self) -> bool:
        """Whether the step also needs a recent proof of the password (the policy's rule says so)."""
        return any(rule.recent_password for rule in self._rules())

    @property
    def locates(self) -> bool:
        """Whether the guard looks an object up (by id, or the workspace of `?workspace_id=`): a 404 can follow."""
        return self.by is not None or self.workspace_query is not None

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
        rules = self._rules()
        return {
            "resource": self.resource.value,
            "action": self.action.value,
            "roles": [rule.role.value for rule in rules],
            "scope": {rule.role.value: rule.scope.value for rule in rules},
            "sessions_only": any(rule.sessions_only for rule in rules),
            "recent_password": self.recent_password,
        }

    def _rules(self) -> list[Rule]:
        """The policy's grants of this action on this resource, one per role that has one."""
        return [
            rule
            for role in POLICY.roles_allowed(self.resource, self.action)
            if (rule := POLICY.rule_for(role, self.resource, self.action))
        ]


Declaration = Requirement | Public


def public(
    *,
    rate_limited: bool = True,
    problems: Mapping[int, str] | None = None,
    sets_cookies: bool = False,
    database: bool = True,
    responses: Mapping[int, ResponseSpec] | None = None,
) -> dict[str, Any]:
    """Declare a handler public: `@get("/api/health", **public(rate_limited=False, database=False))`.

    `responses` documents answers that are not problems (a probe's 503 body).
    """
    declaration = Public(rate_limited, tuple((problems or {}).items()), sets_cookies, database)
    return {
        POLICY_OPT_KEY: declaration,
        "security": [],
        "operation_class": _operation_class(declaration, None),
        "responses": {**_PROBLEM, **(responses or {})},
    }


def requires(
    resource: Resource,
    action: Action,
    *,
    by: str | None = None,
    problems: Mapping[int, str] | None = None,
    sets_cookies: bool = False,
) -> dict[str, Any]:
    """Declare what a handler needs; `by` names the path parameter holding the id of what it acts on.

    Where the id is a container's (a survey for its responses, a workspace for its members), the
    placement says so; the declaration does not repeat it. `problems` adds the handler's own answers
    (its conflicts); every other error answer follows from the declaration.
    """
    requirement = Requirement(resource, action, by, tuple((problems or {}).items()), sets_cookies)
    requirement.check()
    parameter = _workspace_parameter(requirement.workspace_query)
    return {
        POLICY_OPT_KEY: requirement,
        "security": SECURITY,
        "operation_class": _operation_class(requirement, parameter),
        "responses": _PROBLEM,
    }


_PROBLEM: Final = {400: ResponseSpec(Problem, description="A problem", generate_examples=False)}
"""Makes Litestar list `Problem` among the components; `contract.complete` then writes every error answer."""


def _operation_class(declaration: Declaration, parameter: Parameter | None) -> type[Operation]:
    extension = declaration.describe() if isinstance(declaration, Requirement) else {"public": True}

    class PolicyOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            if parameter is not None and parameter not in (self.parameters or []):
                self.parameters = [*(self.parameters or []), parameter]
            schema = complete(super().to_schema(), declaration)
            return schema | {"x-tabular-policy": extension}

    return PolicyOperation


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
