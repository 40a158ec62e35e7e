"""The tenant: every workspace, user and object belongs to exactly one organization."""

from __future__ import annotations

from enum import StrEnum, auto

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tabular.db.base import Base, enum_column_type


class Tier(StrEnum):
    """Billing tier; API keys need a paid one."""

    FREE = auto()
    PRO = auto()
    TEAM = auto()
    ORGANISATION = auto()

    @property
    def is_paid(self) -> bool:
        """Whether the tier includes API access."""
        return self is not Tier.FREE


class Organization(Base):
    """A tenant of the platform."""

    __tablename__ = "organization"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    tier: Mapped[Tier] = mapped_column(enum_column_type(Tier), default=Tier.FREE)
