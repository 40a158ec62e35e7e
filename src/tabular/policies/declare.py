"""How a route states what it needs — one expression — and the one guard that enforces it.

`@get("/api/surveys/{survey_id:uuid}", **requires(Resource.SURVEY, Action.READ, by="survey_id"))` gives
the guard its requirement, and OpenAPI its security schemes, its 401/403/404 answers and the
`x-tabular-policy` extension, all from the same object. A route that declares nothing stops start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Operation

from tabular.errors import FieldError, Forbidden, NotFound, Problem, Unauthorized, ValidationFailed
from tabular.policies.engine import Decision, decide
from tabular.policies.table import POLICY
from tabular.policies.targets import locate

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

    from tabular.auth.principal import AuthFailure, Principal
    from tabular.policies.vocabulary import Action, Resource

__all__ = [
    "POLICY_OPT_KEY",
    "PUBLIC",
    "TARGET_SCOPE_KEY",
    "Requirement",
    "UndeclaredRouteError",
    "check_inventory",
    "policy_guard",
    "public",
    "requires",
]

POLICY_OPT_KEY: Final = "policy"
TARGET_SCOPE_KEY: Final = "tabular.target"
SECURITY: Final[list[dict[str, list[str]]]] = [{"apiKey": []}, {"bearer": []}, {"cookie": []}]


class _Public:
    """The declaration of a route anyone may call, authenticated or not."""

    def __repr__(self) -> str:
        return "PUBLIC"


PUBLIC: Final = _Public()


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a route needs: an action on a resource, found by a path parameter (`by`) or `workspace_id`."""

    resource: Resource
    action: Action
    locate_as: Resource
    by: str | None = None

    def describe(self) -> dict[str, Any]:
        """The `x-tabular-policy` extension: the same facts the guard uses."""
        rules = [
            POLICY.rule_for(role, self.resource, self.action)
            for role in POLICY.roles_allowed(self.resource, self.action)
        ]
        return {
            "resource": self.resource.value,
            "action": self.action.value,
            "roles": [rule.role.value for rule in rules if rule],
            "scope": {rule.role.value: rule.scope.value for rule in rules if rule},
            "sessions_only": any(rule.sessions_only for rule in rules if rule),
        }


class UndeclaredRouteError(RuntimeError):
    """A route handler has no policy declaration: the application must not start."""


def public() -> dict[str, Any]:
    """Declare a handler public: `@get("/api/health", **public())`."""
    return {POLICY_OPT_KEY: PUBLIC}


def requires(
    resource: Resource, action: Action, *, by: str | None = None, via: Resource | None = None
) -> dict[str, Any]:
    """Declare what a handler needs.

    `by` names the path parameter holding the target's id; `via` says which resource that id belongs to
    when it is not `resource` itself (responses are found by their survey).
    """
    requirement = Requirement(resource, action, via or resource, by)
    extension = requirement.describe()

    class PolicyOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            return super().to_schema() | {"x-tabular-policy": extension}

    problem = ResponseSpec(Problem, description="", generate_examples=False)
    return {
        POLICY_OPT_KEY: requirement,
        "security": SECURITY,
        "operation_class": PolicyOperation,
        "responses": {
            401: _described(problem, "No credentials, or invalid, expired or revoked ones"),
            403: _described(problem, "Authenticated, but the role, memberships or key scope do not allow this"),
            404: _described(problem, "Does not exist, or belongs to another organization"),
        },
    }


def _described(spec: ResponseSpec, description: str) -> ResponseSpec:
    return ResponseSpec(spec.data_container, description=description, generate_examples=False)


async def policy_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The one guard: public routes pass; the rest get `decide`'s answer.

    The located target is left on the connection for the handler (`TARGET_SCOPE_KEY`). Declarations are
    compared by type, not identity: Litestar copies a handler's `opt` per layer.
    """
    declaration = handler.opt.get(POLICY_OPT_KEY, PUBLIC)  # only framework routes lack one (see check_inventory)
    if isinstance(declaration, _Public):
        return
    principal: Principal | None = connection.scope.get("user")
    if principal is None:
        raise rejection(connection.scope.get("auth"))
    requirement: Requirement = declaration
    early = decide(principal, requirement.resource, requirement.action, None)
    if not early.allowed:
        raise refusal(early)  # the same answer for every id: nothing is looked up
    session = connection.app.state.db_config.provide_session(connection.app.state, connection.scope)
    object_id = connection.path_params.get(requirement.by) if requirement.by else None
    try:
        target = await locate(session, principal, requirement.locate_as, object_id, _workspace_param(connection))
    except LookupError:
        raise NotFound from None
    decision = decide(principal, requirement.resource, requirement.action, target)
    if not decision.allowed:
        raise refusal(decision)
    connection.scope[TARGET_SCOPE_KEY] = target  # type: ignore[typeddict-unknown-key]


def _workspace_param(connection: ASGIConnection[Any, Any, Any, Any]) -> UUID | None:
    raw = connection.query_params.get("workspace_id")
    if raw is None or raw == "":
        return None
    try:
        return UUID(raw)
    except ValueError:
        field = FieldError(message="must be a UUID", field="workspace_id", source="query")
        raise ValidationFailed("workspace_id is not a valid id.", errors=[field]) from None


def refusal(decision: Decision) -> Unauthorized | Forbidden | NotFound:
    """The error for a refused decision; a 403 carries the reason code, a 404 says nothing more."""
    if decision.status == NotFound.status_code:
        return NotFound()
    if decision.status == Unauthorized.status_code:
        return Unauthorized(code=decision.code)
    return Forbidden(_REASONS.get(decision.code, "Not allowed."), code=decision.code)


_REASONS: Final = {
    "role_forbidden": "Your role does not allow this.",
    "api_key_not_allowed": "API keys cannot do this; sign in with a session.",
    "read_only_key": "This API key is read-only.",
    "not_a_member": "You are not a member of that workspace.",
    "outside_pinned_workspace": "This API key is pinned to another workspace.",
}


def rejection(failure: AuthFailure | None) -> Unauthorized | Forbidden:
    """The error for a request without an acceptable credential: 401, or 403 for a failed CSRF check."""
    if failure is None:
        return Unauthorized("Authentication required: send an API key or a session token.")
    if failure.status == Forbidden.status_code:
        return Forbidden("The session cookie needs the X-CSRF-Token header on this request.", code=failure.code)
    return Unauthorized("The credentials are invalid, expired or revoked.", code=failure.code)


def check_inventory(app: Litestar) -> None:
    """Fail closed: every HTTP route handler must declare a policy or be declared public.

    Litestar's own generated handlers (OPTIONS for CORS, the `/schema` documentation routes) are public
    by declaration here, because no application data travels through them.
    """
    undeclared = sorted(
        f"{method} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if POLICY_OPT_KEY not in handler.opt and not _is_framework_handler(handler)
        for method in sorted(getattr(handler, "http_methods", ()) or ("WEBSOCKET",))
    )
    if undeclared:
        raise UndeclaredRouteError("routes without a policy declaration: " + ", ".join(undeclared))


def _is_framework_handler(handler: BaseRouteHandler) -> bool:
    module = getattr(handler.fn, "__module__", "") or ""
    return module.startswith("litestar.") or getattr(handler, "http_methods", None) == {"OPTIONS"}
