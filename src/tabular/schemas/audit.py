"""`/api/audit` bodies: the organization's audit events, as recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec


class AuditFilter(msgspec.Struct, frozen=True):
    """What `/api/audit` narrows to; every field is optional and they combine with AND."""

    actor_id: UUID | None = None
    event: str | None = None
    since: dt.datetime | None = None
    """Inclusive."""
    until: dt.datetime | None = None
    """Exclusive."""


class AuditEventView(msgspec.Struct, frozen=True):
    """One event; `seq` numbers the organization's events 1, 2, 3… (no other tenant's), `data` never holds a secret."""

    id: UUID
    seq: int
    event: str
    actor_user_id: UUID | None
    target_type: str | None
    target_id: str | None
    data: dict[str, Any]
    client_ip: str | None
    created_at: dt.datetime
