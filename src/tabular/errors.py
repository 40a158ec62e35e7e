"""One exception hierarchy, rendered as RFC 9457 problem details with a stable machine-readable `code`."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, Final

import msgspec
from advanced_alchemy.exceptions import DuplicateKeyError, NotFoundError
from litestar import Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from tabular.db.outage import DatabaseUnavailable
from tabular.request_ids import request_id
from tabular.schemas.rules import RULE_MESSAGES

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from litestar import Request
    from litestar.types import ExceptionHandlersMap, Scope, Send

__all__ = [
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "Problem",
    "TabularError",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "ValidationFailed",
    "answer",
    "as_tabular",
    "exception_handlers",
    "problem",
    "readable",
    "send_problem",
    "under_auth",
]

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
_MISSING_PARAMETER: Final = re.compile(r"^Missing required (\w+) parameter '([^']+)'")

_CODES_BY_STATUS: Final[Mapping[int, str]] = {
    400: "malformed_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class FieldError(msgspec.Struct, frozen=True, omit_defaults=True):
    """One invalid input: where it was (`body`, `query`, `path`, `header`) and what was wrong."""

    message: str
    field: str | None = None
    source: str | None = None


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem details body, extended with `code`, `request_id` and, for validation, `errors`.

    `request_id` names the request as `X-Request-ID` and the access log do. Under `/api/auth` it also
    carries the seed's `"success": 0`.
    """

    title: str
    status: int
    code: str
    type: str = "about:blank"
    detail: str | None = None
    errors: list[FieldError] | None = None
    success: int | None = None
    request_id: Annotated[
        str | None, msgspec.Meta(description="The request's id, as X-Request-ID and the server's access log say it")
    ] = None


class TabularError(Exception):
    """Base of every error the application raises on purpose; each subclass fixes a status and a default code."""

    status_code: int = 400
    code: str = "bad_request"

    def __init_subclass__(cls, *, status: int, code: str) -> None:
        super().__init_subclass__()
        cls.status_code, cls.code = status, code

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: list[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status_code = status
        self.errors = errors
        self.headers = dict(headers or {})


class Unauthorized(TabularError, status=401, code="unauthenticated"):
    """No credentials, or invalid, expired or revoked ones."""


class Forbidden(TabularError, status=403, code="forbidden"):
    """Authenticated, inside the organization, but not allowed; `code` says why."""


class NotFound(TabularError, status=404, code="not_found"):
    """Does not exist, or belongs to another organization: the two are indistinguishable."""


class Conflict(TabularError, status=409, code="conflict"):
    """The request contradicts the current state of the resource."""


class ValidationFailed(TabularError, status=422, code="validation_failed"):
    """Well-formed input that breaks a rule; `errors` points at the offending fields."""


def no_such_workspace(field: str) -> ValidationFailed:
    """A body names a workspace the caller's organization does not have (or another organization's: the same)."""
    message = "no such workspace in your organization"
    return ValidationFailed(
        "No such workspace in your organization.", errors=[FieldError(message=message, field=field, source="body")]
    )


class TooManyRequests(TabularError, status=429, code="rate_limited"):
    """Too many attempts; `Retry-After` says when to try again."""


RETRY_AFTER_OUTAGE: Final = 5
"""Seconds a client is told to wait when the database cannot be reached (`Retry-After` on the 503)."""


class Unavailable(TabularError, status=503, code="database_unavailable"):
    """The database cannot be reached, or did not take the request's work: nothing was stored; retry later.

    What `db.outage.DatabaseUnavailable` means to a client, and what the one place a request commits answers
    when the commit fails (`transaction`).
    """

    def __init__(self, detail: str = "The database cannot be reached; nothing was stored. Retry later.") -> None:
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_OUTAGE)})


CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="tabular"'}
"""What a 401 asks for: a Bearer token (a session, or an API key; `X-API-Key` works too)."""

AUTH_PATH: Final = "/api/auth"


def under_auth(path: str) -> bool:
    """Whether `path` is one of the `/api/auth…` routes: the one place that says so.

    Their answers, problems included, keep the seed's `{"success": …}` envelope, and the rate limiter
    counts their POSTs (credentials being submitted) against the auth quota too.
    """
    return path == AUTH_PATH or path.startswith(AUTH_PATH + "/")


REFUSAL_KEY: Final = "tabular.refusal"
"""Where `problem` leaves the code of the refusal it made, in the request's scope, for the access log."""


def problem(
    status: int, code: str, detail: str | None = None, *, errors: list[FieldError] | None = None, scope: Scope
) -> Problem:
    """The one way a problem document is made, for the exception handlers and the middlewares' refusals alike."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    success = 0 if under_auth(scope["path"]) else None
    scope[REFUSAL_KEY] = code  # type: ignore[typeddict-unknown-key]
    return Problem(
        title=title, status=status, code=code, detail=detail, errors=errors, success=success,
        request_id=request_id(scope),
    )  # fmt: skip


def problem_response(  # noqa: PLR0913 - a problem's fields, and the request it answers
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str | None = None,
    *,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[Problem]:
    """A problem as the answer to `request`; a 401 says how to authenticate (`WWW-Authenticate`)."""
    return Response(
        problem(status, code, detail, errors=errors, scope=request.scope),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**(CHALLENGE if status == 401 else {}), **(headers or {})},  # noqa: PLR2004
    )


async def send_problem(
    send: Send, scope: Scope, error: TabularError, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Answer `error` straight from a middleware (no handler ran, or its answer was not sent), as the handlers would.

    `headers` are sent first, as they are (the limiter's `RateLimit-*`), then the error's own.
    """
    document = problem(error.status_code, error.code, error.detail, errors=error.errors, scope=scope)
    body = msgspec.json.encode(document)
    headers = [
        *headers,
        *((name.lower().encode(), value.encode()) for name, value in error.headers.items()),
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def as_tabular(exc: Exception) -> TabularError | None:
    """What an error means to the client, as one of ours (one status, one code); None for a server error.

    The API answers it as a problem document and a page as a page: both start here, so they cannot disagree.
    """
    known: TabularError | None = None
    match exc:
        case TabularError():
            known = exc
        case ValidationException():
            known = _input_error(exc)
        case NotFoundError():
            known = NotFound()
        case DatabaseUnavailable() | SQLAlchemyTimeoutError():  # gone, or no pooled connection came free in time
            known = Unavailable()
        case DuplicateKeyError():
            known = Conflict("A resource with these values already exists.")
        case UnicodeDecodeError():
            known = TabularError("The body is not valid UTF-8 JSON.", code="malformed_request")
        case RecursionError():  # a body nested deeper than the decoder follows (thousands of `[`)
            known = TabularError("The body is nested too deeply.", code="malformed_request")
        case HTTPException() if exc.status_code < HTTP_500_INTERNAL_SERVER_ERROR:
            code = _CODES_BY_STATUS.get(exc.status_code, "error")
            known = TabularError(exc.detail, code=code, status=exc.status_code, headers=exc.headers)
    return known


def _input_error(exc: ValidationException) -> TabularError:
    """Litestar's own input errors: a body that does not decode is 400, a value that breaks a type is 422."""
    items = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        FieldError(
            message=readable(str(item.get("message", "invalid value"))),
            field=None if item.get("key") == "data" else item.get("key"),  # "data" is Litestar's name for the body
            source=item.get("source"),
        )
        for item in items
        if isinstance(item, dict)
    ]
    if missing := _MISSING_PARAMETER.match(exc.detail or ""):
        source, name = missing.groups()
        errors = [FieldError(message="required", field=name, source=source)]
    if not errors:
        return TabularError(exc.detail, code="malformed_request")
    return ValidationFailed("The request has invalid fields.", errors=errors)


def readable(message: str) -> str:
    """Msgspec quotes a pattern it did not match; say what the rule means instead."""
    for pattern, meaning in RULE_MESSAGES.items():
        if repr(pattern) in message:
            return meaning
    return message


def answer(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """The problem document for any error (`as_tabular`); anything unplanned is logged in full and leaks nothing."""
    known = as_tabular(exc)
    if known is None:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(request, 500, "internal_error", "The server could not complete the request.")
    status, code, detail = known.status_code, known.code, known.detail
    return problem_response(request, status, code, detail, errors=known.errors, headers=known.headers)


exception_handlers: ExceptionHandlersMap = {Exception: answer}
"""One handler for every error: `as_tabular` tells them apart. The pages name theirs the same way (one key,
`Exception`): a layer that named a more specific class would win over them for that class."""
