"""The append-only audit log; each event carries the hash of its predecessor."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from advanced_alchemy.types import JsonB
from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tabular.db.base import BaseNoAudit, UtcDateTime, utcnow


class AuditEvent(BaseNoAudit):
    """A security-relevant event; never updated or deleted by the application.

    Events form one chain: `seq` numbers them without gaps (unique, so two writers cannot both append
    after the same event) and `hash` covers the event's content and the previous event's hash.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_organization_id_created_at", "organization_id", "created_at"),)

    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    organization_id: Mapped[UUID | None] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    actor_user_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None, index=True
    )
    event: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32), default=None)
    target_id: Mapped[str | None] = mapped_column(String(64), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    client_ip: Mapped[str | None] = mapped_column(String(45), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
