"""What an operation's OpenAPI entry promises, worked out from its declaration: the one place errors are documented.

Every answer the API can give is here, and nothing it never gives: each problem (`Problem` under
`application/problem+json`) with the status it applies to, the rate-limit headers on every answer of a
limited route and `Retry-After` on a 429 or a 503, `Set-Cookie` where a session is set, `security: []` on public
operations. What decides it is what also decides the behaviour: the declaration (`requires`/`public`), and
whether the operation takes a body or parameters.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Final

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIHeader, Schema
from litestar.openapi.spec.enums import OpenAPIType

from tabular.errors import PROBLEM_MEDIA_TYPE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.handlers import HTTPRouteHandler
    from litestar.types import Method
    from litestar.typing import FieldDefinition

    from tabular.policies.requirements import Declaration

PROBLEM_REF: Final = {"$ref": "#/components/schemas/Problem"}

_INTEGER: Final = Schema(type=OpenAPIType.INTEGER)
_STRING: Final = Schema(type=OpenAPIType.STRING)
HEADERS: Final[dict[str, OpenAPIHeader]] = {
    "RateLimit-Limit": OpenAPIHeader(schema=_INTEGER, description="Requests allowed in the tightest window"),
    "RateLimit-Remaining": OpenAPIHeader(schema=_INTEGER, description="Requests left in that window"),
    "RateLimit-Reset": OpenAPIHeader(schema=_INTEGER, description="Seconds until a request is counted out of it"),
    "RateLimit-Policy": OpenAPIHeader(
        schema=_STRING, description='Every quota this request counts against, e.g. `"general";q=1000;w=900`'
    ),
    "RateLimit": OpenAPIHeader(schema=_STRING, description='What is left of each quota, e.g. `"general";r=999;t=900`'),
    "Retry-After": OpenAPIHeader(schema=_INTEGER, description="Seconds to wait before trying again"),
    "WWW-Authenticate": OpenAPIHeader(schema=_STRING, description='`Bearer realm="tabular"`: send a session or a key'),
    "Idempotent-Replayed": OpenAPIHeader(
        schema=_STRING, description="`true`: the answer kept for an earlier request with this `Idempotency-Key`"
    ),
    "Set-Cookie": OpenAPIHeader(
        schema=_STRING,
        description="`auth_token` (HttpOnly: the session) and `csrf_token` (readable: echo it in X-CSRF-Token)",
    ),
}
"""Documented once, in `components.headers`; operations refer to them."""

_RATE_LIMIT_HEADERS: Final = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
)

_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "A query parameter was sent twice (`duplicate_parameter`), or the body is not JSON (`malformed_request`)",
    401: "No credentials, or invalid, expired or revoked ones; `code` says which",
    403: "Authenticated, but the role, memberships or key scope do not allow this; `code` says why",
    404: "Does not exist, or belongs to another organization (the two are indistinguishable)",
    413: "The body is too large",
    415: "The body is not sent as JSON (`Content-Type: application/json`)",
    422: "A parameter or body field breaks a rule; `errors` names each (`validation_failed`)",
    429: "Too many requests (`rate_limited`); `Retry-After` says when to try again",
    503: (
        "The database cannot be reached, or did not store this request's work (`database_unavailable`): nothing "
        "was stored, so the request may be sent again; `Retry-After` says when"
    ),
}


IDEMPOTENCY_KEY: Final = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: the first 2xx answer under a key is kept 24 hours and replayed to the same request "
        "(`Idempotent-Replayed: true`), creating nothing more"
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}
_KEY_IN_USE: Final = "a request with the same `Idempotency-Key` is still running (`idempotency_key_in_use`)"
_KEY_REUSED: Final = "; `idempotency_key_reused`: the `Idempotency-Key` was used for another request"

_STALE_SIGN_IN: Final = (
    "`password_required` when the session did not sign in recently and the body has no `password`, "
    "`password_incorrect` for a wrong one"
)


def operation_id(handler: HTTPRouteHandler, _method: Method, _path: list[Any]) -> str:
    """A short id a generated client names its function after: the handler's name, camelCased (`listSurveys`)."""
    first, *rest = handler.handler_name.split("_")
    return first + "".join(word.title() for word in rest)


def complete(operation: dict[str, Any], declaration: Declaration) -> dict[str, Any]:
    """The operation's schema with every answer it can give, and only those, documented."""
    creates = "201" in operation["responses"]  # the middleware's `creates`: the handler answers 201 Created
    if creates:
        operation = operation | {"parameters": [*operation.get("parameters", []), IDEMPOTENCY_KEY]}
    problems = _problems(operation, declaration)
    if creates:
        problems[409] = f"{problems[409]}; or {_KEY_IN_USE}" if 409 in problems else _KEY_IN_USE.capitalize()  # noqa: PLR2004
        problems[422] += _KEY_REUSED
    responses = {code: answer for code, answer in operation["responses"].items() if not 400 <= int(code) < 500}  # noqa: PLR2004
    for code, answer in responses.items():
        headers = {**(_refs(_RATE_LIMIT_HEADERS) if declaration.rate_limited else {}), **answer.get("headers", {})}
        if declaration.sets_cookies and int(code) < 300:  # noqa: PLR2004
            headers |= _refs(["Set-Cookie"])
        if creates and int(code) < 300:  # noqa: PLR2004
            headers |= _refs(["Idempotent-Replayed"])
        if headers:
            answer["headers"] = headers
    for status in sorted(problems):
        responses[str(status)] = _problem(status, problems[status], rate_limited=declaration.rate_limited)
    security: dict[str, Any] = {} if declaration.authenticated else {"security": []}  # public: said, not forgotten
    return operation | {"responses": responses} | security


def _problems(operation: dict[str, Any], declaration: Declaration) -> dict[int, str]:
    """Each problem status the operation can answer, with what it means there."""
    statuses = {400}
    if "requestBody" in operation:
        statuses |= {413, 415, 422}
    if operation.get("parameters"):
        statuses.add(422)
    if declaration.authenticated:
        statuses |= {401, 403}
    if declaration.locates:
        statuses.add(404)
    if declaration.rate_limited:
        statuses.add(429)
    if declaration.database and "503" not in operation["responses"]:  # the probe's 503 is its own
        statuses.add(503)
    own = dict(declaration.problems)
    problems = {status: _DESCRIPTIONS[status] for status in statuses} | own
    if declaration.recent_password and 403 not in own:  # noqa: PLR2004 - a handler's own words replace ours
        problems[403] += f"; {_STALE_SIGN_IN}"
    return problems


def _problem(status: int, description: str, *, rate_limited: bool) -> dict[str, Any]:
    names = [
        *(_RATE_LIMIT_HEADERS if rate_limited else ()),
        *(["Retry-After"] if status in {429, 503} else []),
        *(["WWW-Authenticate"] if status == 401 else []),  # noqa: PLR2004
    ]
    answer: dict[str, Any] = {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}}
    if names:
        answer["headers"] = _refs(names)
    return answer


def _refs(names: list[str] | tuple[str, ...]) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


class DescribedStructs(StructSchemaPlugin):
    """Litestar's schema for a msgspec Struct, with the Struct's docstring as its description.

    The docstrings say what each body is for and the rules it keeps; ReDoc shows them beside the fields.
    """

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        """The component schema, described."""
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if schema.description is None and (doc := inspect.getdoc(field_definition.type_)):
            schema.description = doc
        return schema
