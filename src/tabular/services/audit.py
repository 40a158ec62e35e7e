"""`/api/audit`: the organization's audit events, as admins read them (the log itself is `db/audit.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from tabular.db import AuditEvent
from tabular.policies.filters import visible
from tabular.schemas.audit import AuditEventView
from tabular.schemas.common import wire
from tabular.services.actor import Service
from tabular.services.common import Keyset, aware, cursor_page
from tabular.vocabulary import Resource

if TYPE_CHECKING:
    from tabular.schemas.audit import AuditFilter
    from tabular.schemas.common import CursorPage, Pagination


class AuditService(Service):
    """Reads the caller's organization's events; nothing writes through it."""

    async def listing(
        self, where: AuditFilter, pagination: Pagination, cursor: str | None
    ) -> CursorPage[AuditEventView]:
        """The organization's events matching `where`, newest first, by offset or after a cursor.

        Numbered by `org_seq`, the organization's own count: the chain's `seq` would show how much every other
        tenant did in between.
        """
        query = select(AuditEvent).where(visible(self.actor.caller, Resource.AUDIT_EVENT))
        if where.actor_id is not None:
            query = query.where(AuditEvent.actor_user_id == where.actor_id)
        if where.event is not None:
            query = query.where(AuditEvent.event == where.event)
        if where.since is not None:
            query = query.where(AuditEvent.created_at >= aware(where.since, "since"))
        if where.until is not None:
            query = query.where(AuditEvent.created_at < aware(where.until, "until"))
        ordered = query.order_by(AuditEvent.org_seq.desc())
        keyset = Keyset(
            self.actor.engine.cursors, f"audit:{self.actor.caller.organization_id}", (AuditEvent.org_seq,), (int,)
        )
        view = lambda row: wire(AuditEventView, row[0], seq=row[0].org_seq)  # noqa: E731
        return await cursor_page(self.session, ordered, pagination, view, keyset=keyset, cursor=cursor)
