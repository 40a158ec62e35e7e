"""Signing in and out, the password, and who the caller is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sqlalchemy import Select, select

from tabular.auth.passwords import hash_password, needs_rehash, verify_password
from tabular.db import Organization, User
from tabular.errors import FieldError, Forbidden, NotFound, Unauthorized, ValidationFailed
from tabular.policies.guard import rejection
from tabular.schemas.auth import WhoAmI
from tabular.services.audit import AuditEventType, record, record_by
from tabular.services.mfa import MfaService
from tabular.services.users import normalize_email

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.engine import AuthEngine
    from tabular.auth.identities import IdentityStore
    from tabular.auth.principal import AuthFailure, Principal
    from tabular.auth.session_backend import IssuedSession
    from tabular.schemas.auth import LoginRequest

MIN_PASSWORD_LENGTH: Final = 10
MIN_DISTINCT_CHARACTERS: Final = 5


class AuthService:
    """Sessions and passwords; every outcome that matters is audited, failures included."""

    def __init__(self, session: AsyncSession, engine: AuthEngine) -> None:
        self.session = session
        self.engine = engine

    async def login(self, body: LoginRequest, client_ip: str) -> tuple[User, Organization, IssuedSession]:
        """Check the password (and second factor) and issue a session.

        An unknown email, a wrong password and a deactivated account give the same answer and cost the
        same argon2 verification, so neither the body nor the timing tells them apart.
        """
        row = (
            await self.session.execute(_user_with_organization().where(User.email == normalize_email(body.email)))
        ).first()
        user, organization = row if row is not None else (None, None)
        password_ok = await verify_password(user.password_hash if user else None, body.password)
        if user is None or organization is None or not password_ok or not user.is_active:
            await record(
                self.session,
                AuditEventType.LOGIN_FAILED,
                organization_id=user.organization_id if user else None,
                actor_user_id=user.id if user else None,
                data={"reason": "unknown_email" if user is None else "wrong_password_or_inactive"},
                client_ip=client_ip,
            )
            await self.session.commit()
            raise Unauthorized("The email or password is incorrect.", code="invalid_credentials")
        if user.mfa_enabled:
            if body.otp is None:
                raise Unauthorized("This account uses MFA: send the current code as `otp`.", code="mfa_required")
            await MfaService(self.session, self.engine.identities).verify(user, body.otp, client_ip)
        if user.password_hash is not None and needs_rehash(user.password_hash):
            user.password_hash = await hash_password(body.password)
        issued = self.engine.tokens.issue(
            user.id, user.token_version, mfa_verified=user.mfa_enabled, remember=body.remember_me
        )
        await record_by(
            self.session,
            AuditEventType.LOGIN_SUCCEEDED,
            user,
            client_ip,
            data={"remember_me": body.remember_me, "mfa": user.mfa_enabled},
        )
        return user, organization, issued

    async def logout(self, principal: Principal | None, failure: AuthFailure | None, client_ip: str) -> None:
        """Revoke the session token that authenticated this request."""
        if principal is None:
            raise rejection(failure)
        if not principal.is_session or principal.token_id is None or principal.token_expires_at is None:
            raise Forbidden("Only a session can log out; revoke an API key at /api/keys.", code="api_key_not_allowed")
        await self.engine.revocations.revoke(principal.token_id, principal.token_expires_at)
        await record(
            self.session,
            AuditEventType.LOGOUT,
            organization_id=principal.organization_id,
            actor_user_id=principal.user_id,
            client_ip=client_ip,
        )

    async def change_password(self, principal: Principal, current: str, new: str, client_ip: str) -> IssuedSession:
        """Replace the password, end every session of the user, and hand this one a fresh token."""
        user = await self.current_user(principal)
        if not await verify_password(user.password_hash, current):
            raise ValidationFailed(
                "The current password is incorrect.",
                code="current_password_incorrect",
                errors=[FieldError(message="incorrect", field="current_password", source="body")],
            )
        if problem := password_problem(new, user.email, current):
            raise ValidationFailed(
                problem, code="weak_password", errors=[FieldError(message=problem, field="new_password", source="body")]
            )
        user.password_hash = await hash_password(new)
        user.token_version += 1
        self.engine.identities.forget_on_commit(self.session, user_ids=[user.id])
        await record_by(self.session, AuditEventType.PASSWORD_CHANGED, user, client_ip)
        return self.engine.tokens.issue(user.id, user.token_version, mfa_verified=principal.mfa_verified)

    async def current_user(self, principal: Principal) -> User:
        """The caller's user row, for changes to their own account."""
        user = await self.session.get(User, principal.user_id)
        if user is None:
            raise NotFound
        return user


async def who_am_i(identities: IdentityStore, principal: Principal) -> WhoAmI:
    """The caller as the engine resolved them on this request: from the cached identity, no row read."""
    identity = await identities.identity(principal.user_id)
    if identity is None:
        raise NotFound
    return WhoAmI(
        user_id=identity.user_id,
        user_name=identity.name,
        user_email=identity.email,
        organization_id=identity.organization_id,
        organization_name=identity.organization_name,
        tier=identity.tier.value,
        role=principal.role.value,
        workspace_ids=sorted(principal.reachable_workspace_ids),
        credential=principal.credential.value,
        key_id=principal.key_id,
        read_only=principal.read_only,
        pinned_workspace_id=principal.pinned_workspace_id,
        mfa_enabled=principal.mfa_enabled,
        mfa_verified=principal.mfa_verified,
    )


def password_problem(password: str, email: str, current: str | None = None) -> str | None:
    """Why `password` is too weak, or None: long enough, varied enough, not the email, not the old one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return f"The password must use at least {MIN_DISTINCT_CHARACTERS} different characters."
    if password.lower() in {email.lower(), email.split("@", 1)[0].lower()}:
        return "The password must not be the email address."
    if current is not None and password == current:
        return "The new password must differ from the current one."
    return None


def _user_with_organization() -> Select[tuple[User, Organization]]:
    return select(User, Organization).join(Organization, Organization.id == User.organization_id)
