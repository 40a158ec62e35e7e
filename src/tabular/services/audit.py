"""`/api/audit`: the organization's audit events, as admins read them (the log itself is `db/audit.py`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select

from tabular.db import AuditEvent
from tabular.errors import FieldError, ValidationFailed
from tabular.policies.filters import visible
from tabular.schemas.audit import AuditEventView
from tabular.schemas.common import wire
from tabular.services.actor import Service
from tabular.services.common import page
from tabular.vocabulary import Resource

if TYPE_CHECKING:
    from tabular.schemas.audit import AuditFilter
    from tabular.schemas.common import Page, Pagination


class AuditService(Service):
    """Reads the caller's organization's events; nothing writes through it."""

    async def listing(self, where: AuditFilter, pagination: Pagination) -> Page[AuditEventView]:
        """The organization's events matching `where`, newest first.

        Numbered by `org_seq`, the organization's own count: the chain's `seq` would show how much every other
        tenant did in between.
        """
        query = select(AuditEvent).where(visible(self.actor.caller, Resource.AUDIT_EVENT))
        if where.actor_id is not None:
            query = query.where(AuditEvent.actor_user_id == where.actor_id)
        if where.event is not None:
            query = query.where(AuditEvent.event == where.event)
        if where.since is not None:
            query = query.where(AuditEvent.created_at >= _aware(where.since, "since"))
        if where.until is not None:
            query = query.where(AuditEvent.created_at < _aware(where.until, "until"))
        ordered = query.order_by(AuditEvent.org_seq.desc())
        return await page(
            self.session, ordered, pagination, lambda row: wire(AuditEventView, row[0], seq=row[0].org_seq)
        )


def _aware(moment: dt.datetime, field: str) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValidationFailed(
            f"Give `{field}` with a time zone, e.g. 2026-01-31T00:00:00Z.",
            errors=[FieldError(message="a timezone is required", field=field, source="query")],
        )
    return moment.astimezone(dt.UTC)
