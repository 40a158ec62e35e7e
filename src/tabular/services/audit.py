"""The audit log: append-only, hash-chained, never carrying a secret."""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from uuid_utils.compat import uuid7

from tabular.db import AuditEvent, User
from tabular.db.base import utcnow
from tabular.errors import FieldError, ValidationFailed
from tabular.policies.filters import visible
from tabular.schemas.audit import AuditEventView
from tabular.schemas.common import Page
from tabular.services.common import paginate
from tabular.vocabulary import Resource

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import Principal
    from tabular.schemas.audit import AuditFilter
    from tabular.schemas.common import Pagination

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


async def record_by(  # noqa: PLR0913 - the event, who, from where, and what
    session: AsyncSession,
    event: AuditEventType,
    actor: User | Principal,
    client_ip: str | None,
    *,
    target_type: str | None = None,
    target_id: object = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event done by `actor`: a user (on their own account) or the request's principal."""
    return await record(
        session,
        event,
        organization_id=actor.organization_id,
        actor_user_id=actor.id if isinstance(actor, User) else actor.user_id,
        target_type=target_type,
        target_id=target_id,
        data=data,
        client_ip=client_ip,
    )


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


async def list_events(
    session: AsyncSession, principal: Principal, where: AuditFilter, pagination: Pagination
) -> Page[AuditEventView]:
    """The organization's events matching `where`, newest first (by `seq`, the chain's own order)."""
    query = select(AuditEvent).where(visible(principal, Resource.AUDIT_EVENT))
    if where.actor_id is not None:
        query = query.where(AuditEvent.actor_user_id == where.actor_id)
    if where.event is not None:
        query = query.where(AuditEvent.event == where.event)
    if where.since is not None:
        query = query.where(AuditEvent.created_at >= _aware(where.since, "since"))
    if where.until is not None:
        query = query.where(AuditEvent.created_at < _aware(where.until, "until"))
    rows, total = await paginate(session, query.order_by(AuditEvent.seq.desc()), pagination)
    items = [_event_view(row[0]) for row in rows]
    return Page(items=items, total=total, limit=pagination.limit, offset=pagination.offset)


def _aware(moment: dt.datetime, field: str) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValidationFailed(
            f"Give `{field}` with a time zone, e.g. 2026-01-31T00:00:00Z.",
            errors=[FieldError(message="a timezone is required", field=field, source="query")],
        )
    return moment.astimezone(dt.UTC)


def _event_view(event: AuditEvent) -> AuditEventView:
    return AuditEventView(
        id=event.id,
        seq=event.seq,
        event=event.event,
        actor_user_id=event.actor_user_id,
        target_type=event.target_type,
        target_id=event.target_id,
        data=event.data,
        client_ip=event.client_ip,
        created_at=event.created_at,
    )


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
