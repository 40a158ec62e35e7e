"""The append-only audit log: its events, how one is appended, and how the whole chain is verified.

Each event carries the keyed hash (HMAC-SHA256, `Settings.audit_key`) of its content and its predecessor's
hash, so someone who can write to the database but does not hold the server's secret cannot edit an event
and recompute the chain. Cutting the newest events off leaves a shorter chain that still verifies: a
`Checkpoint` (the head, kept elsewhere) catches that. Services append through `Actor.record`;
`tabular audit verify` walks the chain and `tabular audit checkpoint` prints its head.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import msgspec
from advanced_alchemy.types import JsonB
from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, false, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, aliased, mapped_column
from uuid_utils.compat import uuid7

from tabular.db.base import BaseNoAudit, UtcDateTime, utcnow
from tabular.db.config import AUDIT_KEY

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class AuditEvent(BaseNoAudit):
    """A security-relevant event; never updated or deleted by the application.

    Events form one chain: `seq` numbers them without gaps (unique, so two writers cannot both append
    after the same event) and `hash` covers the event's content and the previous event's hash. `org_seq`
    numbers an organization's own events without gaps: it is the number the organization's admins see, so
    it tells nothing of other tenants' activity (`seq` would).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_organization_id_created_at", "organization_id", "created_at"),
        UniqueConstraint("organization_id", "org_seq", name="uq_audit_event_organization_id_org_seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    org_seq: Mapped[int] = mapped_column(BigInteger)
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
_APPEND_LOCK: Final = 0x7461_6275_6C61_7201
"""PostgreSQL advisory lock (transaction-scoped) that appenders queue on: any fixed number no other code takes."""


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
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_DELETED = "webhook.deleted"


def event_hash(event: AuditEvent, key: bytes) -> str:
    """HMAC-SHA256 under `key` over the previous hash and every field: an edit breaks the chain for good.

    Only the key's holder could compute the hashes again.
    """
    content = msgspec.json.encode(
        [
            event.prev_hash,
            event.seq,
            event.org_seq,
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
    return hmac.new(key, content, "sha256").hexdigest()


def chain_key(session: AsyncSession) -> bytes:
    """The audit key the session was made with (`make_db_config` puts it there); without one, nothing is chained."""
    key = session.info.get(AUDIT_KEY)
    if key is None:
        raise RuntimeError("this session carries no audit key: make it from `make_db_config(settings)`")
    return bytes(key)


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
    """Append one event in the caller's transaction, after the chain's head as committed.

    One statement reads the head and the organization's last number. Appenders take turns: on PostgreSQL
    each first waits for a transaction-scoped advisory lock, held by the one before it until that commits, so
    it reads the head that one left; on SQLite each first takes the database's write lock (one writer at a
    time), for the same reason. The unique `seq` (and organization
    number) stays the guard: a writer that still read a head someone else has since built on is refused at
    the insert and reads again, a few times at most.
    """
    key = chain_key(session)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(_APPEND_LOCK)))
    else:  # SQLite: the database's write lock first (a write that matches nothing takes it), then the head
        await session.execute(
            update(AuditEvent).where(false()).values(seq=AuditEvent.seq),
            execution_options={"synchronize_session": False},
        )
    same_organization = aliased(AuditEvent)
    last_in_organization = (
        select(func.max(same_organization.org_seq))
        .where(same_organization.organization_id == organization_id)
        .scalar_subquery()
    )
    head_query = select(AuditEvent.seq, AuditEvent.hash, last_in_organization).order_by(AuditEvent.seq.desc()).limit(1)
    for _ in range(_APPEND_ATTEMPTS):
        head = (await session.execute(head_query)).first()
        seq, prev_hash, org_seq = (head[0] + 1, head[1], (head[2] or 0) + 1) if head else (1, GENESIS_HASH, 1)
        row = AuditEvent(
            id=uuid7(),
            seq=seq,
            org_seq=org_seq,
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
        row.hash = event_hash(row, key)
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


_CHECKPOINT: Final = re.compile(r"(\d{1,19}):([0-9a-f]{64})", re.ASCII)


class Checkpoint(msgspec.Struct, frozen=True):
    """The chain's head: how many events it holds and the newest one's hash (`COUNT:HASH` as text).

    The hash covers every earlier event, so a checkpoint kept where the database's writers cannot reach pins
    the whole log up to it: events cut off the end, or a history rewritten even with the key, no longer match.
    """

    count: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read what `str()` wrote (`tabular audit checkpoint` prints it)."""
        match = _CHECKPOINT.fullmatch(text.strip())
        if match is None or (int(match[1]) == 0 and match[2] != GENESIS_HASH):
            raise ValueError(f"expected COUNT:HASH as `tabular audit checkpoint` prints it, got {text!r}")
        return cls(count=int(match[1]), hash=match[2])

    def __str__(self) -> str:
        return f"{self.count}:{self.hash}"


_VERIFY_BATCH: Final = 1000


async def verify_chain(session: AsyncSession, checkpoint: Checkpoint | None = None) -> Checkpoint:
    """Walk every event in `seq` order, recomputing each keyed hash; the head, or the first break.

    Each organization's `org_seq` must count 1, 2, 3… in chain order. With a `checkpoint`, the event it counts
    must still carry its hash: a log cut short of it, or rewritten before it, is broken. Reads in keyset
    batches, so memory stays flat however long the log is (one number per organization).
    """
    key = chain_key(session)
    expected_seq, head, last_in = 1, Checkpoint(count=0, hash=GENESIS_HASH), dict[UUID | None, int]()
    while True:
        batch = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.seq >= expected_seq).order_by(AuditEvent.seq).limit(_VERIFY_BATCH)
            )
        )
        for event in batch:
            if event.seq != expected_seq:
                raise AuditChainBrokenError(expected_seq, f"missing (the next event is seq {event.seq})")
            if event.prev_hash != head.hash:
                raise AuditChainBrokenError(event.seq, "prev_hash does not match the previous event's hash")
            if not hmac.compare_digest(event_hash(event, key), event.hash):
                raise AuditChainBrokenError(event.seq, "the content does not match its hash")
            if event.org_seq != last_in.get(event.organization_id, 0) + 1:
                raise AuditChainBrokenError(event.seq, "org_seq does not follow the organization's previous event")
            if checkpoint is not None and event.seq == checkpoint.count and event.hash != checkpoint.hash:
                raise AuditChainBrokenError(event.seq, "the hash differs from the checkpoint's")
            expected_seq, head = event.seq + 1, Checkpoint(count=event.seq, hash=event.hash)
            last_in[event.organization_id] = event.org_seq
            session.expunge(event)
        if len(batch) < _VERIFY_BATCH:
            break
    if checkpoint is not None and head.count < checkpoint.count:
        raise AuditChainBrokenError(expected_seq, f"missing (the checkpoint counts {checkpoint.count} events)")
    return head
