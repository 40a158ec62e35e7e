"""What every account page shares: its template and headers, its form, its errors, and refusals a person reads.

A page is a thin route like any other: it reads a form, calls the service the API calls, and renders what
came back, or the refusal the service raised (the same rule, the same words; `Failure` only says which
field it concerns). Pages load nothing from another host and run no inline script: the Content-Security-
Policy below says so to the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tabular.auth.session_backend import CSRF_COOKIE, CSRF_FIELD
from tabular.errors import FieldError, TabularError, ValidationFailed, answer, as_tabular, readable
from tabular.page_headers import PAGE_HEADERS
from tabular.ratelimit.middleware import PAGE_OPT_KEY
from tabular.settings import SMALL_BODY

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

TEMPLATES: Final = Path(__file__).resolve().parents[2] / "templates"
STATIC: Final = Path(__file__).resolve().parents[2] / "static"

PAGES: Final = frozenset({"/account/api-keys", "/account/security", "/account/organization-keys"})
"""Where a sign-in may return to (`?next=`): only these, so the parameter cannot send anyone elsewhere."""

_FIELD_OF_CODE: Final = {
    "password_required": "password",
    "password_incorrect": "password",
    "invalid_otp": "code",
    "mfa_throttled": "code",
    "invalid_credentials": "password",
}
_STALE_FORM: Final = "This form has expired, or did not come from this site: reload the page and try again."
_AT_FIELD: Final = re.compile(r"at `\$\.(\w+)")

StructT = TypeVar("StructT", bound=msgspec.Struct)


@dataclass(frozen=True, slots=True)
class Failure:
    """A refusal as a page shows it: the service's sentence, and the field each part of it concerns."""

    message: str
    status: int
    code: str
    fields: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    form: str = ""
    """Which form of a page of several was refused, so its fields (not another form's of the same name) say so."""

    @classmethod
    def of(cls, error: TabularError, form: str = "") -> Failure:
        """From the service's error: its detail, its status (so the transaction ends as it would), its fields."""
        fields = {e.field: readable(e.message) for e in error.errors or () if e.field}
        if not fields and (name := _FIELD_OF_CODE.get(error.code)):
            fields[name] = error.detail or error.code
        message = error.detail or "The request was refused."
        return cls(message, error.status_code, error.code, fields, dict(error.headers or {}), form)


def render(
    template: str,
    request: Request[Any, Any, Any],
    *,
    failure: Failure | None = None,
    cookies: Iterable[Cookie] = (),
    csrf: str | None = None,
    status: int = 200,
    **context: Any,  # noqa: ANN401
) -> Template:
    """The page `template` with `context`, the CSRF token its forms carry, and the pages' headers.

    `csrf` is the token of a session set by this very answer (a new sign-in or password); otherwise the
    session's own, from its readable cookie (the signed session token holds the value it is checked against).
    """
    context |= {
        "csrf": csrf if csrf is not None else request.cookies.get(CSRF_COOKIE, ""),
        "principal": request.scope.get("user"),
        "path": request.url.path,
        "failure": failure,
    }
    headers = PAGE_HEADERS | (failure.headers if failure else {})
    return Template(
        template_name=template,
        context=context,
        status_code=failure.status if failure else status,
        headers=headers,
        cookies=list(cookies),
    )


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form as text fields (a field sent twice keeps its last value; the CSRF field is dropped)."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str) and name != CSRF_FIELD}


def parse(kind: type[StructT], values: Mapping[str, object]) -> StructT:
    """The form as the API's input Struct: the same rules (`schemas/rules.py`), a 422 naming the field."""
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as error:
        message = str(error)
        found = _AT_FIELD.search(message)
        name = found.group(1) if found else None
        text = readable(message.split(" - at ", maxsplit=1)[0])
        raise ValidationFailed(
            "The form has invalid fields.", errors=[FieldError(message=text, field=name, source="body")]
        ) from None


def optional(value: str | None) -> str | None:
    """An empty field is a value not given."""
    return value.strip() or None if value is not None else None


def next_page(value: str | None, default: str = "/account/api-keys") -> str:
    """Where to go after signing in: one of the account pages, never another address."""
    return value if value in PAGES else default


def wants_html(request: Request[Any, Any, Any]) -> bool:
    """Whether a person's browser asked (it sends `text/html` first); scripts and tests get problem documents."""
    return "text/html" in request.headers.get("accept", "")


def refused_page(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A refusal on a page: to the sign-in page without a session; else a page with the sentence.

    The refusal is the API's (`as_tabular`: the same status, code and words); a client that did not ask for
    HTML gets the problem document the API would answer, and a server error is the API's too (logged there).
    """
    refusal = as_tabular(error)
    if refusal is None or not wants_html(request):
        return answer(request, error)
    if refusal.status_code == 401:  # noqa: PLR2004
        target = request.url.path if request.method == "GET" else ""
        return Redirect(f"/login?next={quote(target)}" if target in PAGES else "/login", status_code=HTTP_303_SEE_OTHER)
    failure = Failure.of(refusal)
    if refusal.code == "csrf_failed":  # the API's words name a header; a person sent a form
        failure = Failure(_STALE_FORM, failure.status, failure.code)
    return render("error.html", request, failure=failure)


class PageController(Controller):
    """Every page: small form bodies, no OpenAPI entry, refusals as pages for a browser."""

    include_in_schema = False
    request_max_body_size = SMALL_BODY
    opt = {PAGE_OPT_KEY: True}  # noqa: RUF012
    exception_handlers = {Exception: refused_page}  # noqa: RUF012 - as the app's: one handler, `as_tabular` decides
