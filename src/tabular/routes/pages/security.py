"""`/account/security`: enrol an authenticator (QR code drawn here), recovery codes, disable MFA, the password.

Each form calls the service `/api/auth/mfa/…` and `/api/auth/password` call, with the proofs the policy asks
for (`recent_password`): a session that signed in within the last minutes needs none; otherwise the form's
password field is the proof, checked by `PasswordService.prove` as for the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import segno
from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from tabular.auth.identities import IdentityStore
from tabular.auth.principal import Principal
from tabular.auth.session_backend import session_cookies
from tabular.errors import TabularError
from tabular.policies.requirements import requires
from tabular.ratelimit.middleware import AUTH_QUOTA_OPT_KEY
from tabular.routes.dependencies import over_tls, service
from tabular.routes.pages.rendering import Failure, PageController, form_of, optional, parse, render
from tabular.schemas.auth import PasswordChange
from tabular.schemas.mfa import MfaCode
from tabular.services.auth import AuthService, who_am_i
from tabular.services.mfa import MfaService
from tabular.services.passwords import PasswordService
from tabular.vocabulary import Action, Resource

_CREDENTIALS: Final = {AUTH_QUOTA_OPT_KEY: True}
_UPDATE: Final = requires(Resource.ACCOUNT, Action.UPDATE)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code, drawn on the server (no image host, no script)."""
    svg: str = segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff", title="QR code")
    return svg


@dataclass(frozen=True, slots=True)
class SecurityPage:
    """The security page for this request: who is signed in, and whether their sign-in still proves the password."""

    request: Request[Any, Any, Any]
    principal: Principal
    identities: IdentityStore
    passwords: PasswordService

    async def show(self, failure: Failure | None = None, *, mfa_now: bool | None = None, **context: Any) -> Template:  # noqa: ANN401
        """The page; `mfa_now` when this request changed MFA (the principal was resolved before it)."""
        account = await who_am_i(self.identities, self.principal)
        return render(
            "security.html",
            self.request,
            failure=failure,
            account=account,
            mfa_enabled=account.mfa_enabled if mfa_now is None else mfa_now,
            needs_password=not self.passwords.signed_in_recently(),
            **context,
        )


def _provide_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    identities: NamedDependency[IdentityStore],
    passwords: NamedDependency[PasswordService],
) -> SecurityPage:
    return SecurityPage(request, principal, identities, passwords)


class SecurityPages(PageController):
    """The second factor and the password of the signed-in person."""

    path = "/account/security"
    dependencies = {  # noqa: RUF012
        "mfa_service": service(MfaService),
        "auth_service": service(AuthService),
        "passwords": service(PasswordService),
        "page": Provide(_provide_page, sync_to_thread=False),
    }

    @get("", **requires(Resource.ACCOUNT, Action.READ))
    async def security_page(
        self,
        page: NamedDependency[SecurityPage],
    ) -> Template:
        """Where MFA stands, and the forms that change it."""
        return await page.show()

    @post("/mfa/setup", **_UPDATE, opt=_CREDENTIALS)
    async def mfa_setup(
        self,
        page: NamedDependency[SecurityPage],
        mfa_service: NamedDependency[MfaService],
    ) -> Template:
        """A new secret: the QR code to scan, the secret to type, and the form that confirms it with a code."""
        form = await form_of(page.request)
        try:
            secret, uri = await mfa_service.setup(await mfa_service.own_user(), optional(form.get("password")))
        except TabularError as error:
            return await page.show(Failure.of(error))
        enrolment = {"secret": secret, "qr": qr_svg(uri), "uri": uri}
        return await page.show(enrolment=enrolment, confirming=True)

    @post("/mfa/confirm", **_UPDATE, opt=_CREDENTIALS)
    async def mfa_confirm(
        self,
        page: NamedDependency[SecurityPage],
        mfa_service: NamedDependency[MfaService],
    ) -> Template:
        """MFA on: the ten recovery codes, shown this once; this session continues with a new token."""
        form = await form_of(page.request)
        try:
            body = parse(MfaCode, _code_form(form))
            codes, issued = await mfa_service.confirm(await mfa_service.own_user(), body.code, body.password)
        except TabularError as error:
            return await page.show(Failure.of(error), confirming=True)
        return await page.show(
            recovery_codes=codes, mfa_now=True, csrf=issued.claims.csrf,
            cookies=session_cookies(issued, secure=over_tls(page.request)),
        )  # fmt: skip

    @post("/mfa/recovery-codes", **_UPDATE, opt=_CREDENTIALS)
    async def mfa_recovery_codes(
        self,
        page: NamedDependency[SecurityPage],
        mfa_service: NamedDependency[MfaService],
    ) -> Template:
        """Ten new recovery codes (the old ones stop working), shown this once."""
        form = await form_of(page.request)
        try:
            body = parse(MfaCode, _code_form(form))
            user = await mfa_service.own_user()
            codes = await mfa_service.regenerate_recovery_codes(user, body.code, body.password)
        except TabularError as error:
            return await page.show(Failure.of(error, form="recovery-codes"))
        return await page.show(recovery_codes=codes)

    @post("/mfa/disable", **_UPDATE, opt=_CREDENTIALS)
    async def mfa_disable(
        self,
        page: NamedDependency[SecurityPage],
        mfa_service: NamedDependency[MfaService],
    ) -> Template:
        """MFA off; every API key of yours is revoked with it (a key needs MFA to exist)."""
        form = await form_of(page.request)
        try:
            body = parse(MfaCode, _code_form(form))
            await mfa_service.disable(await mfa_service.own_user(), body.code, body.password)
        except TabularError as error:
            return await page.show(Failure.of(error, form="disable"))
        notice = "MFA is off. Your API keys were revoked with it."
        return await page.show(notice=notice, mfa_now=False)

    @post("/password", **_UPDATE, opt=_CREDENTIALS)
    async def change_password(
        self,
        page: NamedDependency[SecurityPage],
        auth_service: NamedDependency[AuthService],
    ) -> Template:
        """A new password ends every other session; the API keys that still work are listed to review."""
        form = await form_of(page.request)
        try:
            values = {
                "current_password": form.get("current_password", ""),
                "new_password": form.get("new_password", ""),
            }
            body = parse(PasswordChange, values)
            issued, active_keys = await auth_service.change_password(body.current_password, body.new_password)
        except TabularError as error:
            return await page.show(Failure.of(error))
        return await page.show(
            notice="Your password is changed; other sessions have ended.",
            active_keys=active_keys,
            csrf=issued.claims.csrf,
            cookies=session_cookies(issued, secure=over_tls(page.request)),
        )


def _code_form(form: dict[str, str]) -> dict[str, object]:
    return {"code": (form.get("code") or "").replace(" ", ""), "password": optional(form.get("password"))}
