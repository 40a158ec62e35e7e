"""Dashboards and reports: named configurations over surveys of one workspace (the API's "items")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from advanced_alchemy.types import JsonB
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tabular.db.base import Base


class WorkspaceItem:
    """The columns both kinds share: where the item lives, who made it, its name and surveys."""

    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    survey_ids: Mapped[list[str]] = mapped_column(JsonB, default=list)
    """Survey ids as strings (a JSON column); `wire` makes them UUIDs again."""


class Dashboard(WorkspaceItem, Base):
    """A configuration of widgets over surveys of one workspace: the one view of numbers a client has."""

    __tablename__ = "dashboard"

    widgets: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)


class Report(WorkspaceItem, Base):
    """A saved report configuration over surveys of one workspace, for members and admins."""

    __tablename__ = "report"

    config: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
