"""Signing in and out, the password, and who the caller is."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Select, select

from tabular.auth.backends import InvalidCredential
from tabular.db import Organization, User
from tabular.db.audit import AuditEventType
from tabular.errors import FieldError, Forbidden, NotFound, TabularError, Unauthorized, ValidationFailed
from tabular.schemas.auth import SessionUser, WhoAmI
from tabular.schemas.common import wire
from tabular.schemas.rules import normalize_email, password_problem
from tabular.services.actor import Service
from tabular.services.api_keys import ApiKeyService
from tabular.services.mfa import MfaService
from tabular.services.passwords import PasswordService
from tabular.telemetry import SIGN_IN_SECONDS

if TYPE_CHECKING:
    import datetime as dt

    from tabular.auth.identities import IdentityStore
    from tabular.auth.principal import Principal
    from tabular.auth.session_backend import IssuedSession
    from tabular.schemas.auth import LoginRequest
    from tabular.schemas.keys import ApiKeyView


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A successful sign-in: who, as `POST /api/auth` answers it, and the session to set."""

    who: SessionUser
    session: IssuedSession


class AuthService(Service):
    """Sessions and passwords; every outcome that matters is audited, failures included."""

    async def login(self, body: LoginRequest) -> SignedIn:
        """Sign in (`_sign_in`), timed by outcome for `/metrics` (`tabular_sign_in_seconds`)."""
        started, outcome = time.perf_counter(), "ok"
        try:
            return await self._sign_in(body)
        except TabularError as refused:
            outcome = refused.code
            raise
        finally:
            SIGN_IN_SECONDS.labels(outcome).observe(time.perf_counter() - started)

    async def _sign_in(self, body: LoginRequest) -> SignedIn:
        """Check the password (and second factor) and issue a session.

        An unknown email, a wrong password and a deactivated account give the same answer and cost the
        same argon2 verification, so neither the body nor the timing tells them apart; attempts count
        against the account's quota (`PasswordService.matching`). An email may have an account in several
        organizations (each its own person to the organization that invited them); the password says which.
        """
        user, organization = await self._password(body)
        if user.mfa_enabled:
            if body.otp is None:
                raise Unauthorized("This account uses MFA: send the current code as `otp`.", code="mfa_required")
            await MfaService(self.actor).verify(user, body.otp)
        return await self._signed_in(user, organization, remember=body.remember_me)

    async def login_in_steps(self, body: LoginRequest) -> SignedIn | str:
        """The sign-in page's first step: a session when the account has no second factor; else a pending token.

        The same checks as `login`; the token (`SessionTokens.pending`, minutes long) carries the
        proof of the password to `second_step`, which asks for the code.
        """
        user, organization = await self._password(body)
        if not user.mfa_enabled:
            return await self._signed_in(user, organization, remember=body.remember_me)
        return self.actor.engine.tokens.pending(user.id, user.token_version, remember=body.remember_me)

    async def second_step(self, pending: str, code: str) -> SignedIn:
        """The sign-in page's second step: a TOTP or recovery code after the password (`login_in_steps`).

        A pending token that expired, or outlived a change to the account (its token version moved on), is
        refused as `sign_in_expired`. It is not spent by a success (the page drops it): within its minutes it
        proves only the password, and each code still counts once and is throttled like any other.
        """
        expired = Unauthorized("The sign-in expired; enter your email and password again.", code="sign_in_expired")
        engine = self.actor.engine
        try:
            claims = engine.tokens.read_pending(pending)
        except InvalidCredential:
            raise expired from None
        query = _user_with_organization().where(User.id == claims.user_id)
        row = (await self.session.execute(query)).tuples().first()
        if row is None:
            raise expired
        user, organization = row
        if not user.is_active or user.token_version != claims.version or not user.mfa_enabled:
            raise expired
        await MfaService(self.actor).verify(user, code)
        return await self._signed_in(user, organization, remember=claims.remember, signed_in_at=claims.signed_in_at)

    async def _password(self, body: LoginRequest) -> tuple[User, Organization]:
        """The account whose password this is, rehashed if its salt or parameters are not today's; else 401."""
        email = normalize_email(body.email)
        query = _user_with_organization().where(User.email == email).order_by(User.created_at, User.id)
        accounts = (await self.session.execute(query)).tuples().all()  # oldest first
        candidates = [candidate for candidate, _ in accounts]
        passwords = PasswordService(self.actor)
        user = await passwords.matching(candidates, email, body.password)
        if user is None or not user.is_active:
            failed: list[User | None] = [user] if user is not None else [*candidates] or [None]
            reason = "unknown_email" if not candidates else "wrong_password_or_inactive"
            for who in failed:  # each organization sees the attempts on its own account
                await self.actor.record(AuditEventType.LOGIN_FAILED, as_user=who, data={"reason": reason})
            self.actor.keep_on_refusal()
            raise Unauthorized("The email or password is incorrect.", code="invalid_credentials")
        await passwords.upgrade(user, body.password)
        return user, next(organization for candidate, organization in accounts if candidate is user)

    async def _signed_in(
        self, user: User, organization: Organization, *, remember: bool, signed_in_at: dt.datetime | None = None
    ) -> SignedIn:
        issued = self.actor.engine.tokens.issue(
            user.id, user.token_version, mfa_verified=user.mfa_enabled, remember=remember, signed_in_at=signed_in_at
        )
        data = {"remember_me": remember, "mfa": user.mfa_enabled}
        await self.actor.record(AuditEventType.LOGIN_SUCCEEDED, as_user=user, data=data)
        who = SessionUser(
            user_id=user.id, user_name=user.name, user_email=user.email, organization_name=organization.name
        )
        return SignedIn(who, issued)

    async def logout(self) -> None:
        """Revoke the session token that authenticated this request."""
        principal = self.actor.caller
        if not principal.is_session or principal.token_id is None or principal.token_expires_at is None:
            raise Forbidden("Only a session can log out; revoke an API key at /api/keys.", code="api_key_not_allowed")
        await self.actor.engine.revocations.revoke(principal.token_id, principal.token_expires_at)
        await self.actor.record(AuditEventType.LOGOUT)

    async def change_password(self, current: str, new: str) -> tuple[IssuedSession, list[ApiKeyView]]:
        """Replace the password, end every session of the user, and hand this one a fresh token.

        API keys keep working (a password change is not a compromise of them), so the answer lists the
        active ones: the place to revoke any the user does not recognise.
        """
        principal = self.actor.caller
        user = await self.session.get(User, principal.user_id)
        if user is None:
            raise NotFound
        if not await PasswordService(self.actor).check(user, user.email, current):
            raise ValidationFailed(
                "The current password is incorrect.",
                code="current_password_incorrect",
                errors=[FieldError(message="incorrect", field="current_password", source="body")],
            )
        if problem := password_problem(new, user.email, current):
            raise ValidationFailed(
                problem, code="weak_password", errors=[FieldError(message=problem, field="new_password", source="body")]
            )
        user.password_hash = await PasswordService(self.actor).hash(user.email, new)
        user.token_version += 1
        self.actor.forget(user_ids=[user.id])
        await self.actor.record(AuditEventType.PASSWORD_CHANGED)
        issued = self.actor.engine.tokens.issue(user.id, user.token_version, mfa_verified=principal.mfa_verified)
        return issued, await ApiKeyService(self.actor).active_own()


async def who_am_i(identities: IdentityStore, principal: Principal) -> WhoAmI:
    """The caller as the engine resolved them on this request: from the cached identity, no row read."""
    identity = await identities.identity(principal.user_id)
    if identity is None:
        raise NotFound
    return wire(
        WhoAmI,
        principal,
        user_name=identity.name,
        user_email=identity.email,
        organization_name=identity.organization_name,
        tier=identity.tier,
        workspace_ids=sorted(principal.reachable_workspace_ids),
    )


def _user_with_organization() -> Select[tuple[User, Organization]]:
    return select(User, Organization).join(Organization, Organization.id == User.organization_id)
