"""`/account/security`: enrol an authenticator (QR code drawn here), recovery codes, disable MFA, the password.

Each form calls the service `/api/auth/mfa/…` and `/api/auth/password` call, with the proofs the policy asks
for (`recent_password`): a session that signed in within the last minutes needs none; otherwise the form's
password field is the proof, checked by `PasswordService.prove` as for the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, TypeVar

import segno
from litestar import get, post
from litestar.di import NamedDependency
from litestar.response import Template

from tabular.auth.session_backend import IssuedSession, session_cookies
from tabular.policies.requirements import requires
from tabular.ratelimit.middleware import AUTH_QUOTA_OPT_KEY
from tabular.routes.dependencies import over_tls, service
from tabular.routes.pages.account import AccountPage, Form, Shown
from tabular.routes.pages.rendering import PageController, optional, parse
from tabular.schemas.auth import PasswordChange
from tabular.schemas.mfa import MfaCode
from tabular.services.auth import AuthService
from tabular.services.mfa import MfaService
from tabular.vocabulary import Action, Resource

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tabular.db import User
    from tabular.schemas.auth import WhoAmI

_CREDENTIALS: Final = {AUTH_QUOTA_OPT_KEY: True}
_UPDATE: Final = requires(Resource.ACCOUNT, Action.UPDATE)

T = TypeVar("T")


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code, drawn on the server (no image host, no script)."""
    svg: str = segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff", title="QR code")
    return svg


class SecurityPage(AccountPage):
    """The security page: whether MFA is on, and the forms that change it and the password."""

    template = "security.html"

    async def context(self, account: WhoAmI, *, mfa_now: bool | None = None, **shown: Any) -> Shown:  # noqa: ANN401
        """`mfa_now` when this request changed MFA (the principal was resolved before it)."""
        return {"mfa_enabled": account.mfa_enabled if mfa_now is None else mfa_now, **shown}

    def new_session(self, issued: IssuedSession) -> Shown:
        """What a page answer needs to carry a session this request issued: its CSRF token and its cookies."""
        return {"csrf": issued.claims.csrf, "cookies": session_cookies(issued, secure=over_tls(self.request))}


class SecurityPages(PageController):
    """The second factor and the password of the signed-in person."""

    path = "/account/security"
    dependencies = {  # noqa: RUF012
        "mfa_service": service(MfaService),
        "auth_service": service(AuthService),
        "page": SecurityPage.provide(),
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
