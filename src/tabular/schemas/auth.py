"""`/api/auth` bodies, in the seed's `{"success": …, "data": …}` envelope."""

from __future__ import annotations

from uuid import UUID

import msgspec

from tabular.db.organizations import Tier
from tabular.schemas.common import Envelope
from tabular.schemas.keys import ApiKeyView
from tabular.schemas.rules import Email, Input, OneTimeCode, Password
from tabular.vocabulary import CredentialKind, Role


class LoginRequest(Input, frozen=True, tag_field="action", tag="login"):
    """`{"email", "password", "action": "login"}`, plus `remember_me` and, with MFA on, `otp`."""

    email: Email
    password: Password
    remember_me: bool = False
    otp: OneTimeCode | None = None
    """A current TOTP code or an unused recovery code."""


class LogoutRequest(Input, frozen=True, tag_field="action", tag="logout"):
    """`{"action": "logout"}`: revokes the session token that authenticates the request."""


AuthRequest = LoginRequest | LogoutRequest


class SessionUser(msgspec.Struct, frozen=True):
    """Who signed in."""

    user_id: UUID
    user_name: str
    user_email: str
    organization_name: str


class LoginResponse(Envelope, frozen=True):
    """The seed's login answer; the token itself travels in the HttpOnly `auth_token` cookie."""

    data: SessionUser


class LoggedOut(msgspec.Struct, frozen=True):
    """Confirmation of a logout."""

    logged_out: bool = True


class LogoutResponse(Envelope, frozen=True):
    """Logout answer in the seed's envelope."""

    data: LoggedOut


class PasswordChange(Input, frozen=True):
    """`POST /api/auth/password`."""

    current_password: Password
    new_password: Password


class PasswordChanged(msgspec.Struct, frozen=True):
    """The password is changed; every other session has ended and this one has a new token.

    API keys are not ended by a new password: `active_keys` lists those that still work, to revoke any the
    user does not recognise (`DELETE /api/keys/{key_id}`).
    """

    active_keys: list[ApiKeyView]
    password_changed: bool = True


class PasswordChangeResponse(Envelope, frozen=True):
    """Password change answer in the seed's envelope."""

    data: PasswordChanged


class WhoAmI(msgspec.Struct, frozen=True):
    """The caller as the engine sees them on this request."""

    user_id: UUID
    user_name: str
    user_email: str
    organization_id: UUID
    organization_name: str
    tier: Tier
    role: Role
    workspace_ids: list[UUID]
    credential: CredentialKind
    key_id: UUID | None
    read_only: bool
    pinned_workspace_id: UUID | None
    mfa_enabled: bool
    mfa_verified: bool


class WhoAmIResponse(Envelope, frozen=True):
    """`GET /api/auth` answer."""

    data: WhoAmI
