"""`/account/security`: enrol an authenticator (QR code drawn here), recovery codes, disable MFA, the password.

Each form calls the service `/api/auth/mfa/…` and `/api/auth/password` call, with the proofs the policy asks
for (`recent_password`): a session that signed in within the last minutes needs none; otherwise the form's
password field is the proof, checked by `PasswordService.prove` as for the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar

import segno
from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from tabular.auth.identities import IdentityStore
from tabular.auth.principal import Principal
from tabular.auth.session_backend import IssuedSession, session_cookies
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

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tabular.db import User

_CREDENTIALS: Final = {AUTH_QUOTA_OPT_KEY: True}
_UPDATE: Final = requires(Resource.ACCOUNT, Action.UPDATE)

Form: TypeAlias = dict[str, str]
Shown: TypeAlias = dict[str, Any]
"""What a form's step gives the page to show (the keywords of `SecurityPage.show`)."""
T = TypeVar("T")


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

    async def submit(self, step: Callable[[Form], Awaitable[Shown]], *, form: str = "", **refused: Any) -> Template:  # noqa: ANN401
        """Every form's one course: `step` turns the submitted fields into what the page shows beside it.

        A refusal shows the page with the service's sentence on `form`'s fields (of a page of several), and `refused`.
        """
        fields = await form_of(self.request)
        try:
            shown = await step(fields)
        except TabularError as error:
            return await self.show(Failure.of(error, form=form), **refused)
        return await self.show(**shown)

    def new_session(self, issued: IssuedSession) -> Shown:
        """What a page answer needs to carry a session this request issued: its CSRF token and its cookies."""
        return {"csrf": issued.claims.csrf, "cookies": session_cookies(issued, secure=over_tls(self.request))}


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
    async def security_page(self, page: NamedDependency[SecurityPage]) -> Template:
        """Where MFA stands, and the forms that change it."""
        return await page.show()

    @post("/mfa/setup", **_UPDATE, opt=_CREDENTIALS)
    async def mfa_setup(
        self, page: NamedDependency[SecurityPage], mfa_service: NamedDependency[MfaService]
    ) -> Template:
        """A new secret: the QR code to scan, the secret to type, and the form that confirms it with a code."""

        async def enrol(form: Form) -> Shown:
            secret, uri = await mfa_service.setup(await mfa_service.own_user(), optional(form.get("password")))
            return {"enrolment": {"secret": secret, "qr": qr_svg(uri), "uri": uri}, "confirming": True}

        return await page.submit(enrol)

    @post("/mfa/confirm", **_UPDATE, opt=_CREDENTIALS)
    async def mfa_confirm(
        self, page: NamedDependency[SecurityPage], mfa_service: NamedDependency[MfaService]
    ) -> Template:
        """MFA on: the ten recovery codes, shown this once; this session continues with a new token."""

        async def confirm(form: Form) -> Shown:
            codes, issued = await _by_code(mfa_service, mfa_service.confirm, form)
            return {"recovery_codes": codes, "mfa_now": True, **page.new_session(issued)}

        return await page.submit(confirm, confirming=True)

    @post("/mfa/recovery-codes", **_UPDATE, opt=_CREDENTIALS)
    async def mfa_recovery_codes(
        self, page: NamedDependency[SecurityPage], mfa_service: NamedDependency[MfaService]
    ) -> Template:
        """Ten new recovery codes (the old ones stop working), shown this once."""

        async def regenerate(form: Form) -> Shown:
            return {"recovery_codes": await _by_code(mfa_service, mfa_service.regenerate_recovery_codes, form)}

        return await page.submit(regenerate, form="recovery-codes")

    @post("/mfa/disable", **_UPDATE, opt=_CREDENTIALS)
    async def mfa_disable(
        self, page: NamedDependency[SecurityPage], mfa_service: NamedDependency[MfaService]
    ) -> Template:
        """MFA off; every API key of yours is revoked with it (a key needs MFA to exist)."""

        async def disable(form: Form) -> Shown:
            await _by_code(mfa_service, mfa_service.disable, form)
            return {"notice": "MFA is off. Your API keys were revoked with it.", "mfa_now": False}

        return await page.submit(disable, form="disable")

    @post("/password", **_UPDATE, opt=_CREDENTIALS)
    async def change_password(
        self, page: NamedDependency[SecurityPage], auth_service: NamedDependency[AuthService]
    ) -> Template:
        """A new password ends every other session; the API keys that still work are listed to review."""

        async def change(form: Form) -> Shown:
            values = {name: form.get(name, "") for name in ("current_password", "new_password")}
            body = parse(PasswordChange, values)
            issued, active_keys = await auth_service.change_password(body.current_password, body.new_password)
            notice = "Your password is changed; other sessions have ended."
            return {"notice": notice, "active_keys": active_keys, **page.new_session(issued)}

        return await page.submit(change)


async def _by_code(mfa: MfaService, change: Callable[[User, str, str | None], Awaitable[T]], form: Form) -> T:
    """An MFA change on your account, proved by the form's code (and its password where the policy asks for it)."""
    code = (form.get("code") or "").replace(" ", "")
    body = parse(MfaCode, {"code": code, "password": optional(form.get("password"))})
    return await change(await mfa.own_user(), body.code, body.password)
