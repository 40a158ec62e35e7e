"""Dashboards: named views over a workspace's survey metrics, the one thing clients may see."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from advanced_alchemy.types import JsonB
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tabular.db.base import Base


class Dashboard(Base):
    """A configuration of widgets over surveys of one workspace."""

    __tablename__ = "dashboard"

    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    survey_ids: Mapped[list[str]] = mapped_column(JsonB, default=list)
    widgets: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
