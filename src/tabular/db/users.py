"""Users, their credentials at rest (password hash, MFA state) and their recovery codes."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tabular.db.base import Base, UtcDateTime, enum_column_type
from tabular.vocabulary import Role

if TYPE_CHECKING:
    from tabular.db.workspaces import WorkspaceMembership


class User(Base):
    """A person who signs in; belongs to one organization with one role there."""

    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("organization_id", "email", name="uq_user_account_organization_id_email"),)

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    """Stored lower-cased, unique within the organization: another organization may invite the same person, and
    learns nothing from it. Sign-in looks it up through this index and the password says which account."""
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column_type(Role))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    """argon2id encoded hash; None until a password is set (an invited user)."""
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped by a password, role or activation change; sessions carrying an older version are void."""
    totp_secret: Mapped[str | None] = mapped_column(String(128), default=None)
    """Sealed under a key derived from the server secret (`auth/at_rest.py`); never the secret itself."""
    mfa_enabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    """The last TOTP time step accepted, so a code is accepted at most once."""
    mfa_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Consecutive wrong second-factor codes; reset by a right one."""
    mfa_failed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)

    memberships: Mapped[list[WorkspaceMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="noload"
    )

    @property
    def mfa_enabled(self) -> bool:
        """Whether a confirmed second factor guards this user's sign-in."""
        return self.mfa_enabled_at is not None


class RecoveryCode(Base):
    """A single-use MFA recovery code, stored only as an HMAC under a key derived from the server secret."""

    __tablename__ = "recovery_code"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
