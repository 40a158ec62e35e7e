"""The append-only audit log: its events, how one is appended, and how the whole chain is verified.

Each event carries the hash of its predecessor; appending and verifying are the chain's own rules, so they
live beside it. Services append through `Actor.record`; `tabular audit verify` walks the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import msgspec
from advanced_alchemy.types import JsonB
from sqlalchemy import BigInteger, ForeignKey, Index, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from uuid_utils.compat import uuid7

from tabular.db.base import BaseNoAudit, UtcDateTime, utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


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


GENESIS_HASH: Final = "0" * 64
_APPEND_ATTEMPTS: Final = 5


class AuditEventType(StrEnum):
    """Every kind of event the log records."""

    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 - an event name
    MFA_ENABLED = "mfa.enabled"
    MFA_DISABLED = "mfa.disabled"
    MFA_FAILED = "mfa.failed"
    MFA_RECOVERY_CODE_USED = "mfa.recovery_code_used"
    MFA_RECOVERY_CODES_REGENERATED = "mfa.recovery_codes_regenerated"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    API_KEY_ROTATED = "api_key.rotated"
    WORKSPACE_CREATED = "workspace.created"
    WORKSPACE_RENAMED = "workspace.renamed"
    WORKSPACE_DELETED = "workspace.deleted"
    MEMBER_ADDED = "workspace.member_added"
    MEMBER_REMOVED = "workspace.member_removed"
    USER_CREATED = "user.created"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DEACTIVATED = "user.deactivated"
    USER_REACTIVATED = "user.reactivated"


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the previous hash and every recorded field, so editing any row breaks the chain."""
    content = msgspec.json.encode(
        [
            event.prev_hash,
            event.seq,
            str(event.id),
            str(event.organization_id) if event.organization_id else None,
            str(event.actor_user_id) if event.actor_user_id else None,
            event.event,
            event.target_type,
            event.target_id,
            event.data,
            event.client_ip,
            event.created_at.isoformat(),
        ],
        order="sorted",
    )
    return hashlib.sha256(content).hexdigest()


async def record(  # noqa: PLR0913 - every field of an event, by keyword
    session: AsyncSession,
    event: AuditEventType,
    *,
    organization_id: UUID | None,
    actor_user_id: UUID | None = None,
    target_type: str | None = None,
    target_id: object = None,
    data: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction; a concurrent append is retried after the new head."""
    for _ in range(_APPEND_ATTEMPTS):
        head = (
            await session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
        ).first()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        row = AuditEvent(
            id=uuid7(),
            seq=seq,
            organization_id=organization_id,
            actor_user_id=actor_user_id,
            event=event.value,
            target_type=target_type,
            target_id=str(target_id) if target_id is not None else None,
            data=data or {},
            client_ip=client_ip,
            created_at=utcnow(),
            prev_hash=prev_hash,
            hash="",
        )
        row.hash = event_hash(row)
        try:
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        return row
    raise RuntimeError("could not append to the audit log: too much contention")


class AuditChainBrokenError(Exception):
    """An event does not follow from its predecessor: a row was edited, deleted or inserted by hand."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"audit chain broken at seq {seq}: {reason}")
        self.seq = seq
        self.reason = reason


_VERIFY_BATCH: Final = 1000


async def verify_chain(session: AsyncSession) -> int:
    """Walk every event in `seq` order, recomputing each hash; the number of events, or the first break.

    Reads in keyset batches, so memory stays flat however long the log is.
    """
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    while True:
        batch = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.seq >= expected_seq).order_by(AuditEvent.seq).limit(_VERIFY_BATCH)
            )
        )
        for event in batch:
            if event.seq != expected_seq:
                raise AuditChainBrokenError(expected_seq, f"missing (the next event is seq {event.seq})")
            if event.prev_hash != prev_hash:
                raise AuditChainBrokenError(event.seq, "prev_hash does not match the previous event's hash")
            if event_hash(event) != event.hash:
                raise AuditChainBrokenError(event.seq, "the content does not match its hash")
            expected_seq, prev_hash, count = event.seq + 1, event.hash, count + 1
            session.expunge(event)
        if len(batch) < _VERIFY_BATCH:
            return count
