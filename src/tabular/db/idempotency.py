"""The first answer to each `Idempotency-Key`, for deployments that keep them in the database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tabular.db.base import BaseNoAudit, UtcDateTime


class IdempotencyRecord(BaseNoAudit):
    """A creating request under a key: pending while it runs (`answer` empty), then its answer until `expires_at`."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("subject", "key"),)

    subject: Mapped[str] = mapped_column(String(64))
    """Whose key it is: `user:<id>` for a principal, the client's address for an anonymous caller."""
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the method, path, query and body: the same key with another request is refused."""
    answer: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    """The answer's status, headers and body, sealed (`idempotency.stores.Sealer`), replayed as they were."""
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
