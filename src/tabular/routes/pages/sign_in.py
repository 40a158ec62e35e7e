"""The landing page, and signing in (password, then the second factor when MFA is on) and out, as pages.

The same `AuthService` as `POST /api/auth`: its checks, quotas, audit events and answers. The sign-in form
is a login-CSRF target (a page could sign a visitor in as someone else), so it carries a token that must
match a `SameSite=Strict` cookie set with the form; the second step needs the pending sign-in's cookie,
also `Strict`, which another site's form never sends.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any, Final

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from tabular.auth.session_backend import (
    PENDING_COOKIE,
    PENDING_LIFETIME,
    clear_session_cookies,
    session_cookies,
)
from tabular.errors import TabularError, Unauthorized
from tabular.policies.requirements import public
from tabular.ratelimit.middleware import AUTH_QUOTA_OPT_KEY
from tabular.routes.dependencies import over_tls, service
from tabular.routes.pages.rendering import Failure, PageController, form_of, next_page, optional, parse, render
from tabular.schemas.auth import LoginRequest
from tabular.services.auth import AuthService, SignedIn

LOGIN_CSRF_COOKIE: Final = "login_csrf"
_CREDENTIALS: Final = {AUTH_QUOTA_OPT_KEY: True}


def _form_expired() -> Unauthorized:
    return Unauthorized("The sign-in form expired; please try again.", code="csrf_failed")


class SignInPages(PageController):
    """`/`, `/login`, `/login/code`, `/logout`."""

    dependencies = {"auth_service": service(AuthService)}  # noqa: RUF012

    @get("/", **public())
    async def landing(self, request: Request[Any, Any, Any]) -> Template:
        """Where a person opening the server's address starts: sign in, the account pages, the API's documentation."""
        return render("landing.html", request)

    @get("/login", **public())
    async def login_page(
        self,
        request: Request[Any, Any, Any],
        target: Annotated[str | None, QueryParameter(name="next", description="An account page")] = None,
    ) -> Template:
        """The sign-in form, with a fresh login-CSRF token in it and in a cookie."""
        return _login_form(request, next_page(target))

    @post("/login", **public(), opt=_CREDENTIALS)
    async def login(self, request: Request[Any, Any, Any], auth_service: NamedDependency[AuthService]) -> Response[Any]:
        """Password step: signed in (no MFA), or on to the code step with a pending sign-in cookie."""
        form = await form_of(request)
        target = next_page(form.get("next"))
        try:
            _check_login_token(request, form.get("login_token", ""))
            body = parse(
                LoginRequest,
                {
                    "action": "login",
                    "email": form.get("email", ""),
                    "password": form.get("password", ""),
                    "remember_me": form.get("remember_me") == "on",
                },
            )
            outcome = await auth_service.login_in_steps(body)
        except TabularError as error:
            return _login_form(request, target, Failure.of(error), email=form.get("email", ""))
        if isinstance(outcome, SignedIn):
            return _signed_in(request, outcome, target)
        pending = Cookie(
            key=PENDING_COOKIE,
            value=outcome,
            max_age=int(PENDING_LIFETIME.total_seconds()),
            path="/login",
            httponly=True,
            samesite="strict",
            secure=over_tls(request),
        )
        return render("login_code.html", request, cookies=[pending], next=target)

    @post("/login/code", **public(), opt=_CREDENTIALS)
    async def login_code(
        self, request: Request[Any, Any, Any], auth_service: NamedDependency[AuthService]
    ) -> Response[Any]:
        """Second step: the current code from the authenticator, or one of the recovery codes."""
        form = await form_of(request)
        target = next_page(form.get("next"))
        pending = request.cookies.get(PENDING_COOKIE)
        if not pending:
            return _login_form(request, target, Failure.of(_form_expired()))
        try:
            signed_in = await auth_service.second_step(pending, (optional(form.get("code")) or "").replace(" ", ""))
        except TabularError as error:
            if error.code == "sign_in_expired":
                return _login_form(request, target, Failure.of(error))
            return render("login_code.html", request, failure=Failure.of(error), next=target)
        return _signed_in(request, signed_in, target)

    @post("/logout", **public(), opt=_CREDENTIALS)
    async def logout(
        self, request: Request[Any, Any, Any], auth_service: NamedDependency[AuthService]
    ) -> Response[Any]:
        """Ends the session (its token is revoked) and forgets the cookies; then the sign-in page."""
        if request.user is not None:  # a session whose form carried its CSRF token
            await auth_service.logout()
        redirect = Redirect("/login", status_code=HTTP_303_SEE_OTHER)
        redirect.cookies.extend(clear_session_cookies(secure=over_tls(request)))
        return redirect


def _login_form(
    request: Request[Any, Any, Any], target: str, failure: Failure | None = None, email: str = ""
) -> Template:
    token = secrets.token_urlsafe(32)
    cookie = Cookie(
        key=LOGIN_CSRF_COOKIE, value=token, path="/login", httponly=True, samesite="strict", secure=over_tls(request)
    )
    return render("login.html", request, failure=failure, cookies=[cookie], login_token=token, next=target, email=email)


def _check_login_token(request: Request[Any, Any, Any], sent: str) -> None:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise _form_expired()


def _signed_in(request: Request[Any, Any, Any], signed_in: SignedIn, target: str) -> Redirect:
    secure = over_tls(request)
    redirect = Redirect(target, status_code=HTTP_303_SEE_OTHER)
    redirect.cookies.extend(session_cookies(signed_in.session, secure=secure))
    redirect.cookies.append(Cookie(key=PENDING_COOKIE, value="", max_age=0, path="/login", secure=secure))
    return redirect
