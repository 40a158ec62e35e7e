"""Shared column types and the declarative bases every model builds on."""

from __future__ import annotations

import datetime as dt
from enum import Enum as PyEnum
from typing import Any

from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base, orm_registry
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Enum

__all__ = ["Base", "BaseNoAudit", "UtcDateTime", "enum_column_type", "metadata", "utcnow"]

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
