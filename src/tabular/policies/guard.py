"""The guards every route passes, and the dependencies that hand a handler what the guard authorized.

Order, fixed: a query parameter sent twice is a 400 (before anything is decided); then a public route
passes; no acceptable credential is a 401; then `authorize`
decides what needs no lookup (403), reads the address (a malformed `workspace_id` is a 422) and decides
on the row it loads in the caller's organization. That row — or the workspace a collection request
named — is what the handler receives and acts on; no handler or service reads the request, or the
database, to find it again. (Removing a member names a second id, the user: the service finds that
membership inside the authorized workspace, the only place it may look.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from litestar import Request  # noqa: TC002 - Litestar resolves provider annotations at runtime
from litestar.di import Provide

from tabular.auth.principal import rejection
from tabular.errors import FieldError, Forbidden, NotFound, TabularError, ValidationFailed
from tabular.policies.authorize import Address, Located, authorize
from tabular.policies.lookup import TenantLookup
from tabular.policies.requirements import POLICY_OPT_KEY, PUBLIC, WORKSPACE_PARAMETER, Public, WorkspaceQuery
from tabular.telemetry import POLICY_REFUSALS
from tabular.vocabulary import Reason, Resource

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

    from tabular.auth.principal import Principal
    from tabular.policies.decision import Decision
    from tabular.policies.requirements import Requirement

AUTHORIZED_SCOPE_KEY: Final = "tabular.authorized"


def single_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The query as one value per name; a 400 `duplicate_parameter` naming the first name sent twice."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            raise TabularError(
                f"The query parameter {name!r} was sent more than once; send it once.",
                code="duplicate_parameter",
                errors=[FieldError(message="sent more than once", field=name, source="query")],
            )
        values[name] = value
    return values


async def policy_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The one guard, on every route: repeated parameters refused, public routes passed, the rest decided.

    One guard, not two, because Litestar copies the handler for each guard of each request. Declarations
    are compared by type, not identity: Litestar copies a handler's `opt` per layer.
    """
    # Every query parameter of this API is scalar: one sent twice is ambiguous, so it is refused, not
    # guessed. Two readers of `?workspace_id=A&workspace_id=B` (one taking the first, one the last) once
    # let a member write into a workspace they could not reach; parsed once here, nothing can disagree.
    query = single_values(connection.query_params.multi_items()) if connection.scope["query_string"] else {}
    declaration = handler.opt.get(POLICY_OPT_KEY, PUBLIC)  # only framework routes lack one (see inventory)
    if isinstance(declaration, Public):
        return
    principal: Principal | None = connection.scope.get("user")
    if principal is None:
        raise rejection(connection.scope.get("auth"))
    requirement: Requirement = declaration

    async def locate(address: Address) -> Located | None:
        session = connection.app.state.db_config.provide_session(connection.app.state, connection.scope)
        return await TenantLookup(session, principal.organization_id)(address)

    def address() -> Address | None:
        return address_of(requirement, connection.path_params, query)

    outcome = await authorize(principal, requirement.resource, requirement.action, address, locate)
    if not outcome.decision.allowed:
        POLICY_REFUSALS.labels(outcome.decision.reason.value).inc()
        raise refusal(outcome.decision)
    if outcome.located is not None:
        connection.scope[AUTHORIZED_SCOPE_KEY] = outcome.located  # type: ignore[typeddict-unknown-key]


def address_of(
    requirement: Requirement, path_params: Mapping[str, UUID | str], query: Mapping[str, str]
) -> Address | None:
    """What a request names: the path parameter `by`, or the workspace of `?workspace_id=`, or nothing.

    A missing required or malformed `workspace_id` is a 422; an empty one is malformed, not "no workspace".
    """
    if requirement.by is not None:
        return Address(requirement.locate_as, _uuid(path_params[requirement.by], requirement.by, "path"))
    wanted = requirement.workspace_query
    if wanted is None:
        return None
    raw = query.get(WORKSPACE_PARAMETER)
    if raw is None:
        if wanted is WorkspaceQuery.REQUIRED:
            field = FieldError(message="required", field=WORKSPACE_PARAMETER, source="query")
            raise ValidationFailed("The request has invalid fields.", errors=[field])
        return None
    return Address(Resource.WORKSPACE, _uuid(raw, WORKSPACE_PARAMETER, "query"))


def _uuid(value: UUID | str, name: str, source: str) -> UUID:
    if isinstance(value, UUID):
        return value  # the router has parsed it already
    try:
        return UUID(value)
    except ValueError:
        field = FieldError(message="must be a UUID", field=name, source=source)
        raise ValidationFailed(f"{name} is not a valid id.", errors=[field]) from None


def refusal(decision: Decision) -> Forbidden | NotFound:
    """The error for a refused decision (the caller is authenticated): a 403 carries the reason, a 404 nothing."""
    if decision.reason is Reason.NOT_FOUND:
        return NotFound()
    return Forbidden(decision.reason.message, code=decision.code)


def authorized(model: type[Any], *, optional: bool = False) -> Provide:
    """A dependency handing the handler the `model` row the guard authorized.

    `dependencies={"survey": authorized(Survey)}` then `survey: NamedDependency[Survey]`. With `optional`,
    None when the request named none (a list without `?workspace_id=`).
    """

    def provide(request: Request[Any, Any, Any]) -> Any:  # noqa: ANN401 - the row of `model`
        located = request.scope.get(AUTHORIZED_SCOPE_KEY)
        row = located.row if isinstance(located, Located) else None
        if isinstance(row, model):
            return row
        if row is None and optional:
            return None
        raise RuntimeError(f"{request.method} {request.url.path} takes a {model.__name__} it does not locate")

    provide.authorized_model = model  # type: ignore[attr-defined] # read by the start-up inventory
    return Provide(provide, sync_to_thread=False)
