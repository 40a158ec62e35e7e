"""`/api/auth`: sign in and out, who am I, change the password."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from tabular.auth.identities import IdentityStore
from tabular.auth.principal import Principal
from tabular.policies.requirements import public, requires
from tabular.routes.dependencies import SESSION_COOKIES, SessionCookies, service
from tabular.schemas.auth import (
    AuthRequest,
    LoggedOut,
    LoginRequest,
    LoginResponse,
    LogoutResponse,
    PasswordChange,
    PasswordChanged,
    PasswordChangeResponse,
    WhoAmIResponse,
)
from tabular.services.auth import AuthService, who_am_i
from tabular.settings import SMALL_BODY
from tabular.vocabulary import Action, Resource

LOGIN_PROBLEMS = {
    401: "Wrong email or password (`invalid_credentials`); a second factor needed (`mfa_required`) or wrong "
    "(`invalid_otp`); logging out without a session",
    403: "Logging out with an API key (`api_key_not_allowed`), or by cookie without the CSRF token (`csrf_failed`)",
}


KEY_REFUSED = (
    "An API key cannot change the password (`api_key_not_allowed`), and a session cookie needs its CSRF token "
    "(`csrf_failed`); `current_password` is the proof of the password this step needs"
)


class AuthController(Controller):
    """Sessions for browsers and scripts; the seed's `{"success": …}` envelope on every answer, errors too."""

    path = "/api/auth"
    request_max_body_size = SMALL_BODY  # anyone may send one: small
    tags = ["auth"]  # noqa: RUF012
    dependencies = {"auth_service": service(AuthService), "session_cookies": SESSION_COOKIES}  # noqa: RUF012

    @post(
        "",
        **public(problems=LOGIN_PROBLEMS, sets_cookies=True),
        status_code=HTTP_200_OK,
        summary="Log in (action=login) or out (action=logout)",
    )
    async def login_or_logout(
        self,
        data: JSONBody[AuthRequest],
        auth_service: NamedDependency[AuthService],
        session_cookies: NamedDependency[SessionCookies],
    ) -> Response[LoginResponse | LogoutResponse]:
        """Login sets the HttpOnly `auth_token` cookie (and a readable `csrf_token`); logout revokes the token.

        The route is public for logging in; logging out needs the session it ends (`AuthService.logout`).
        """
        if isinstance(data, LoginRequest):
            signed_in = await auth_service.login(data)
            body = LoginResponse(data=signed_in.who)
            return Response(body, cookies=session_cookies.issue(signed_in.session))
        await auth_service.logout()
        return Response(LogoutResponse(data=LoggedOut()), cookies=session_cookies.clear())

    @get(
        "",
        **requires(Resource.ACCOUNT, Action.READ),
        summary="Who am I: user, organization, role, workspaces, credential, MFA",
    )
    async def who_am_i(
        self, principal: NamedDependency[Principal], identities: NamedDependency[IdentityStore]
    ) -> WhoAmIResponse:
        """The caller as the engine resolved them on this very request (no database session is opened)."""
        return WhoAmIResponse(data=await who_am_i(identities, principal))

    @post(
        "/password",
        **requires(Resource.ACCOUNT, Action.UPDATE, problems={403: KEY_REFUSED}, sets_cookies=True),
        status_code=HTTP_200_OK,
        summary="Change the password",
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        auth_service: NamedDependency[AuthService],
        session_cookies: NamedDependency[SessionCookies],
    ) -> Response[PasswordChangeResponse]:
        """Ends every session of the user; this one continues with the new token set in the cookie.

        API keys keep working: the answer lists the active ones, to revoke any you do not recognise.
        """
        issued, active_keys = await auth_service.change_password(data.current_password, data.new_password)
        body = PasswordChangeResponse(data=PasswordChanged(active_keys=active_keys))
        return Response(body, cookies=session_cookies.issue(issued))
