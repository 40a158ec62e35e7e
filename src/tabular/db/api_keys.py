"""API keys: only a SHA-256 hash and a short display prefix are ever stored."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tabular.db.base import Base, UtcDateTime


class ApiKey(Base):
    """A key acting as its creator, optionally down-scoped (read-only and/or one workspace)."""

    __tablename__ = "api_key"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """Hex SHA-256 of the whole key; the lookup goes through this unique index, never a scan."""
    prefix: Mapped[str] = mapped_column(String(12))
    """The first characters of the key, to recognise it in a list; not enough to guess it."""
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    workspace_id: Mapped[UUID | None] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), default=None)
    """When set, the key is pinned to this one workspace."""
