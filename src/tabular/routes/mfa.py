"""`/api/auth/mfa/…`: enrol a TOTP device, confirm it, disable it, renew recovery codes (sessions only)."""

from __future__ import annotations

from litestar import Controller, Response, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from tabular.db import User
from tabular.policies.requirements import requires
from tabular.routes.dependencies import SESSION_COOKIES, SessionCookies, service
from tabular.schemas.mfa import (
    MfaCode,
    MfaSetup,
    MfaSetupResponse,
    MfaState,
    MfaStateResponse,
    RecoveryCodes,
    RecoveryCodesResponse,
)
from tabular.schemas.rules import PasswordProof
from tabular.services.mfa import MfaService
from tabular.settings import SMALL_BODY
from tabular.vocabulary import Action, Resource


async def provide_own_user(mfa_service: NamedDependency[MfaService]) -> User:
    """The caller's own user row, locked for this transaction's changes."""
    return await mfa_service.own_user()


ENABLED = "MFA is already enabled (`mfa_already_enabled`)"
ENABLED_OR_NOT_STARTED = (
    "MFA is already enabled (`mfa_already_enabled`), or no enrolment was started (`mfa_not_set_up`)"
)
NOT_ENABLED = "MFA is not enabled (`mfa_not_enabled`)"


class MfaController(Controller):
    """Second-factor management; an API key can never reach it."""

    path = "/api/auth/mfa"
    request_max_body_size = SMALL_BODY  # under /api/auth: small, as for sign-in
    tags = ["auth"]  # noqa: RUF012
    dependencies = {  # noqa: RUF012
        "mfa_service": service(MfaService),
        "user": Provide(provide_own_user),
        "session_cookies": SESSION_COOKIES,
    }

    @post(
        "/setup",
        **requires(Resource.ACCOUNT, Action.UPDATE, problems={409: ENABLED}),
        status_code=HTTP_200_OK,
        summary="Start TOTP enrolment",
    )
    async def setup_mfa(
        self,
        user: NamedDependency[User],
        mfa_service: NamedDependency[MfaService],
        data: JSONBody[PasswordProof | None] = None,
    ) -> MfaSetupResponse:
        """A new secret and otpauth URI; shown now, never readable again. Needs a recent proof of the password."""
        secret, uri = await mfa_service.setup(user, data.password if data else None)
        return MfaSetupResponse(data=MfaSetup(secret=secret, otpauth_uri=uri))

    @post(
        "/confirm",
        **requires(Resource.ACCOUNT, Action.UPDATE, problems={409: ENABLED_OR_NOT_STARTED}, sets_cookies=True),
        status_code=HTTP_200_OK,
        summary="Confirm TOTP, get recovery codes",
    )
    async def confirm_mfa(
        self,
        data: JSONBody[MfaCode],
        user: NamedDependency[User],
        mfa_service: NamedDependency[MfaService],
        session_cookies: NamedDependency[SessionCookies],
    ) -> Response[RecoveryCodesResponse]:
        """Turns MFA on and ends every other session; this one, which just proved the factor, gets a new token."""
        codes, issued = await mfa_service.confirm(user, data.code, data.password)
        body = RecoveryCodesResponse(data=RecoveryCodes(recovery_codes=codes))
        return Response(body, cookies=session_cookies.issue(issued))

    @post(
        "/disable",
        **requires(Resource.ACCOUNT, Action.UPDATE, problems={409: NOT_ENABLED}),
        status_code=HTTP_200_OK,
        summary="Disable MFA",
    )
    async def disable_mfa(
        self,
        data: JSONBody[MfaCode],
        user: NamedDependency[User],
        mfa_service: NamedDependency[MfaService],
    ) -> MfaStateResponse:
        """Needs a current TOTP code or a recovery code, and a recent proof of the password; revokes your keys."""
        await mfa_service.disable(user, data.code, data.password)
        return MfaStateResponse(data=MfaState(mfa_enabled=False))

    @post(
        "/recovery-codes",
        **requires(Resource.ACCOUNT, Action.UPDATE, problems={409: NOT_ENABLED}),
        status_code=HTTP_200_OK,
        summary="Replace the recovery codes",
    )
    async def regenerate_recovery_codes(
        self,
        data: JSONBody[MfaCode],
        user: NamedDependency[User],
        mfa_service: NamedDependency[MfaService],
    ) -> RecoveryCodesResponse:
        """Ten new codes; the old ones stop working. Needs a current TOTP code and a recent proof of the password."""
        codes = await mfa_service.regenerate_recovery_codes(user, data.code, data.password)
        return RecoveryCodesResponse(data=RecoveryCodes(recovery_codes=codes))
