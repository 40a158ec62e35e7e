"""`/api/keys` bodies: the secret appears only in the creation and rotation answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from tabular.schemas.rules import Input, RecentPassword, line

KeyName = Annotated[str, line(100, "What the key is for, 1-100 characters, one line")]
KeyStatus = Literal["active", "expired", "revoked"]


class ApiKeyCreate(Input, frozen=True):
    """A new key: a descriptive name, an optional expiry, an optional down-scope."""

    name: KeyName
    expires_at: dt.datetime | None = None
    read_only: bool = False
    workspace_id: UUID | None = None
    password: RecentPassword | None = None


class ApiKeyView(msgspec.Struct, frozen=True):
    """A key as its owner sees it later: never the secret."""

    id: UUID
    name: str
    prefix: str
    status: KeyStatus
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    read_only: bool
    workspace_id: UUID | None


class CreatedApiKey(msgspec.Struct, frozen=True):
    """A key just made: `key` is shown this once and cannot be retrieved again."""

    id: UUID
    key: str
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    read_only: bool
    workspace_id: UUID | None
    replaces: UUID | None = None
    """On rotation: the old key, which keeps working until its new `expires_at`."""


class ApiKeyList(msgspec.Struct, frozen=True):
    """The caller's own keys, newest first."""

    items: list[ApiKeyView]


class KeyOwner(msgspec.Struct, frozen=True):
    """Whose key it is, for an admin reviewing the organization's keys."""

    id: UUID
    name: str
    email: str
    is_active: bool


class OrganizationKeyView(msgspec.Struct, frozen=True):
    """A key of the organization as its admins see it: the owner's view, and the owner."""

    key: ApiKeyView
    owner: KeyOwner
