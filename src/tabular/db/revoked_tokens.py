"""Signed-out session tokens, for deployments that keep revocations in the database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tabular.db.base import BaseNoAudit, UtcDateTime


class RevokedToken(BaseNoAudit):
    """A signed-out session's token id, kept until the token would have expired anyway."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
