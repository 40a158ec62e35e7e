"""One exception hierarchy, rendered as RFC 9457 problem details with a stable machine-readable `code`."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import msgspec
from litestar import Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from litestar import Request
    from litestar.types import ExceptionHandlersMap

__all__ = [
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "Problem",
    "TabularError",
    "TooManyRequests",
    "Unauthorized",
    "ValidationFailed",
    "enveloped_exception_handlers",
    "exception_handlers",
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
    """An RFC 9457 problem details body, extended with `code` and, for validation, `errors`.

    Under `/api/auth` it also carries the seed's `"success": 0`.
    """

    title: str
    status: int
    code: str
    type: str = "about:blank"
    detail: str | None = None
    errors: list[FieldError] | None = None
    success: int | None = None


class TabularError(Exception):
    """Base of every error the application raises on purpose; subclasses fix the status."""

    status_code: int = 400
    code: str = "bad_request"

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


class Unauthorized(TabularError):
    """No credentials, or invalid, expired or revoked ones."""

    status_code = 401
    code = "unauthenticated"


class Forbidden(TabularError):
    """Authenticated, inside the organization, but not allowed; `code` says why."""

    status_code = 403
    code = "forbidden"


class NotFound(TabularError):
    """Does not exist, or belongs to another organization: the two are indistinguishable."""

    status_code = 404
    code = "not_found"


class Conflict(TabularError):
    """The request contradicts the current state of the resource."""

    status_code = 409
    code = "conflict"


class TooManyRequests(TabularError):
    """Too many attempts; `Retry-After` says when to try again."""

    status_code = 429
    code = "rate_limited"


class ValidationFailed(TabularError):
    """Well-formed input that breaks a rule; `errors` points at the offending fields."""

    status_code = 422
    code = "validation_failed"


def problem_response(
    status: int,
    code: str,
    detail: str | None = None,
    *,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[Problem]:
    """The one way a problem leaves the application."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return Response(
        Problem(title=title, status=status, code=code, detail=detail, errors=errors),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _tabular_error(_: Request[Any, Any, Any], exc: TabularError) -> Response[Problem]:
    return problem_response(exc.status_code, exc.code, exc.detail, errors=exc.errors, headers=exc.headers)


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    """Litestar's own input errors: a body that does not decode is 400, a value that breaks a type is 422."""
    items = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        FieldError(
            message=str(item.get("message", "invalid value")),
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
        return problem_response(400, "malformed_request", exc.detail)
    return problem_response(422, "validation_failed", "The request has invalid fields.", errors=errors)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        return _unexpected_error(request, exc)
    code = _CODES_BY_STATUS.get(status, "error")
    detail = exc.detail if status < HTTP_500_INTERNAL_SERVER_ERROR else None
    return problem_response(status, code, detail, headers=exc.headers)


def _undecodable_body(_: Request[Any, Any, Any], __: UnicodeDecodeError) -> Response[Problem]:
    return problem_response(400, "malformed_request", "The body is not valid UTF-8 JSON.")


def _unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """Anything unplanned: logged in full here, and nothing of it leaks to the client."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal_error", "The server could not complete the request.")


exception_handlers: ExceptionHandlersMap = {
    TabularError: _tabular_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    UnicodeDecodeError: _undecodable_body,
    Exception: _unexpected_error,
}


def _enveloped(
    render: Callable[[Request[Any, Any, Any], Any], Response[Problem]],
) -> Callable[[Request[Any, Any, Any], Any], Response[Problem]]:
    def handler(request: Request[Any, Any, Any], exc: Any) -> Response[Problem]:  # noqa: ANN401
        response = render(request, exc)
        response.content = msgspec.structs.replace(response.content, success=0)
        return response

    return handler


enveloped_exception_handlers: ExceptionHandlersMap = {
    kind: _enveloped(render) for kind, render in exception_handlers.items()
}
"""The same problems with `"success": 0`, for the routes that keep the seed's envelope."""
