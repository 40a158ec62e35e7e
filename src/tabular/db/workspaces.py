"""Workspaces hold surveys, dashboards and reports; memberships say who may work in them."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tabular.db.base import Base

if TYPE_CHECKING:
    from tabular.db.users import User


class Workspace(Base):
    """A named area of one organization."""

    __tablename__ = "workspace"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))

    memberships: Mapped[list[WorkspaceMembership]] = relationship(
        back_populates="workspace", cascade="all, delete-orphan", lazy="noload"
    )


class WorkspaceMembership(Base):
    """A user's membership of a workspace of their own organization."""

    __tablename__ = "workspace_membership"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)

    workspace: Mapped[Workspace] = relationship(back_populates="memberships", lazy="noload")
    user: Mapped[User] = relationship(back_populates="memberships", lazy="noload")
