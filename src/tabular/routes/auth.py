"""`/api/auth`: sign in and out, who am I, change the password."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from tabular.auth.engine import AuthEngine
from tabular.auth.principal import Principal
from tabular.auth.session_backend import clear_session_cookies, session_cookies
from tabular.errors import enveloped_exception_handlers
from tabular.policies.requirements import public, requires
from tabular.schemas.auth import (
    AuthRequest,
    LoggedOut,
    LoginRequest,
    LoginResponse,
    LogoutResponse,
    PasswordChange,
    PasswordChanged,
    PasswordChangeResponse,
    SessionUser,
    WhoAmIResponse,
)
from tabular.services.auth import AuthService, who_am_i
from tabular.vocabulary import Action, Resource


def provide_auth_service(
    db_session: NamedDependency[AsyncSession], auth_engine: NamedDependency[AuthEngine]
) -> AuthService:
    """One service per request, on the request's transaction."""
    return AuthService(db_session, auth_engine)


class AuthController(Controller):
    """Sessions for browsers and scripts; the seed's `{"success": …}` envelope on every answer, errors too."""

    path = "/api/auth"
    tags = ["auth"]  # noqa: RUF012
    dependencies = {"auth_service": Provide(provide_auth_service, sync_to_thread=False)}  # noqa: RUF012
    exception_handlers = enveloped_exception_handlers

    @post("", **public(), status_code=HTTP_200_OK, summary="Log in (action=login) or out (action=logout)")
    async def login_or_logout(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[AuthRequest],
        auth_service: NamedDependency[AuthService],
        client_ip: NamedDependency[str],
    ) -> Response[LoginResponse | LogoutResponse]:
        """Login sets the HttpOnly `auth_token` cookie (and a readable `csrf_token`); logout revokes the token."""
        secure = request.url.scheme == "https"
        if isinstance(data, LoginRequest):
            user, organization, issued = await auth_service.login(data, client_ip)
            body = SessionUser(
                user_id=user.id, user_name=user.name, user_email=user.email, organization_name=organization.name
            )
            return Response(LoginResponse(data=body), cookies=session_cookies(issued, secure=secure))
        await auth_service.logout(request.user, request.auth, client_ip)
        return Response(LogoutResponse(data=LoggedOut()), cookies=clear_session_cookies(secure=secure))

    @get(
        "",
        **requires(Resource.ACCOUNT, Action.READ),
        summary="Who am I: user, organization, role, workspaces, credential, MFA",
    )
    async def who_am_i(
        self, principal: NamedDependency[Principal], auth_engine: NamedDependency[AuthEngine]
    ) -> WhoAmIResponse:
        """The caller as the engine resolved them on this very request (no database session is opened)."""
        return WhoAmIResponse(data=await who_am_i(auth_engine.identities, principal))

    @post(
        "/password", **requires(Resource.ACCOUNT, Action.UPDATE), status_code=HTTP_200_OK, summary="Change the password"
    )
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PasswordChange],
        principal: NamedDependency[Principal],
        auth_service: NamedDependency[AuthService],
        client_ip: NamedDependency[str],
    ) -> Response[PasswordChangeResponse]:
        """Ends every session of the user; this one continues with the new token set in the cookie."""
        issued = await auth_service.change_password(principal, data.current_password, data.new_password, client_ip)
        cookies = session_cookies(issued, secure=request.url.scheme == "https")
        return Response(PasswordChangeResponse(data=PasswordChanged()), cookies=cookies)
