"""The audit log: append-only, hash-chained, never carrying a secret."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from uuid_utils.compat import uuid7

from tabular.db import AuditEvent
from tabular.db.base import utcnow

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

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
