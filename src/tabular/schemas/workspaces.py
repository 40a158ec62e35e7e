"""`/api/workspaces` bodies: workspaces and their members."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

from tabular.schemas.rules import Input, line
from tabular.vocabulary import Role

WorkspaceName = Annotated[str, line(200, "1-200 characters, one line; unique in the organization")]


class WorkspaceWrite(Input, frozen=True):
    """A new workspace, or a new name for one: unique in the organization."""

    name: WorkspaceName


class WorkspaceView(msgspec.Struct, frozen=True):
    """A workspace and how many users belong to it."""

    id: UUID
    name: str
    member_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class MemberAdd(Input, frozen=True):
    """A user of the same organization to add to the workspace."""

    user_id: UUID


class MemberView(msgspec.Struct, frozen=True):
    """A member of a workspace, with the facts an admin needs to recognise them."""

    user_id: UUID
    email: str
    name: str
    role: Role
    active: bool
    added_at: dt.datetime
