"""`/api/users` bodies: the organization's users, invitations and the one-time set-password token."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

from tabular.schemas.rules import Email, Input, Name, Password
from tabular.vocabulary import Role

Token = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]


class UserView(msgspec.Struct, frozen=True):
    """A user as an admin sees them: never a password hash or an MFA secret."""

    id: UUID
    email: str
    name: str
    role: Role
    active: bool
    password_set: bool
    """False for an invited user who has not chosen a password yet."""
    mfa_enabled: bool
    workspace_ids: list[UUID]
    created_at: dt.datetime
    updated_at: dt.datetime


class CreatedUser(UserView, frozen=True):
    """A user just made; `set_password_token` (when no password was given) is shown this once."""

    set_password_token: str | None = None
    set_password_expires_at: dt.datetime | None = None


class UserCreate(Input, frozen=True):
    """A new user; without `password` the answer carries a one-time `set_password_token` instead."""

    email: Email
    name: Name
    role: Role
    password: Password | None = None
    workspace_ids: list[UUID] = msgspec.field(default_factory=list)


class UserUpdate(Input, frozen=True):
    """Only the fields sent change; a role change or (de)activation ends every session of the user."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    role: Role | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class SetPassword(Input, frozen=True):
    """The token from the user's creation, and the password they choose."""

    token: Token
    password: Password
