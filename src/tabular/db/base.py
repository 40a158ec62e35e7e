"""Shared column types and the declarative bases every model builds on."""

from __future__ import annotations

import datetime as dt
from enum import Enum as PyEnum
from typing import TYPE_CHECKING, Any

from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base, orm_registry
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import CursorResult, Enum, update

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["Base", "BaseNoAudit", "UtcDateTime", "enum_column_type", "hold", "metadata", "utcnow"]

Base = UUIDv7AuditBase
"""UUIDv7 primary key (time-ordered, so indexes stay local) plus UTC `created_at` / `updated_at`."""

BaseNoAudit = UUIDv7Base
"""UUIDv7 primary key only, for rows that are never updated."""

metadata = orm_registry.metadata

UtcDateTime = DateTimeUTC(timezone=True)
"""Timezone-aware column that stores and returns UTC on both SQLite and PostgreSQL."""


def utcnow() -> dt.datetime:
    """The current time in UTC; the only clock the models use."""
    return dt.datetime.now(dt.UTC)


def enum_column_type(enum: type[PyEnum], length: int = 20) -> Enum:
    """A portable VARCHAR enum column storing the enum *values* (not member names)."""
    values: Any = lambda members: [member.value for member in members]  # noqa: E731
    return Enum(enum, native_enum=False, length=length, values_callable=values, validate_strings=True)


async def hold(session: AsyncSession, model: type[UUIDv7Base | UUIDv7AuditBase], row_id: UUID) -> bool:
    """Hold the row for writing until the transaction ends, on both engines; False if there is no such row.

    A check-then-write invariant (the last admin, a one-time token, an empty workspace) takes this first
    and reads after it. PostgreSQL would honour `SELECT ... FOR UPDATE`, but SQLite drops it: it has no
    row locks, and its driver begins the transaction at the first write, taking the database's write lock
    there. A write that changes nothing is a lock both honour; a concurrent holder waits for the commit.
    """
    unchanged = {"id": model.id} | ({"updated_at": model.updated_at} if issubclass(model, UUIDv7AuditBase) else {})
    result = await session.execute(
        update(model).where(model.id == row_id).values(unchanged),  # `updated_at` too: it would move on its own
        execution_options={"synchronize_session": False},
    )
    return isinstance(result, CursorResult) and result.rowcount > 0
