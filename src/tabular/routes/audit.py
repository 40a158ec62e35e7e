"""`/api/audit`: the organization's audit log (admins only), newest first."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from tabular.db.audit import AuditEventType
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.schemas.audit import AuditEventView, AuditFilter
from tabular.schemas.common import Page, Pagination
from tabular.services.audit import AuditService
from tabular.vocabulary import Action, Resource


class AuditController(Controller):
    """Read-only: the log is written by the system, never through the API."""

    path = "/api/audit"
    tags = ["audit"]  # noqa: RUF012
    dependencies = {"audit": service(AuditService)}  # noqa: RUF012

    @get("", **requires(Resource.AUDIT_EVENT, Action.LIST), summary="List audit events")
    async def list_audit_events(
        self,
        audit: NamedDependency[AuditService],
        pagination: NamedDependency[Pagination],
        actor_id: Annotated[UUID | None, QueryParameter(description="Only events by this user")] = None,
        event: Annotated[AuditEventType | None, QueryParameter(description="Only events of this type")] = None,
        since: Annotated[dt.datetime | None, QueryParameter(description="At or after (ISO 8601, with zone)")] = None,
        until: Annotated[dt.datetime | None, QueryParameter(description="Before (ISO 8601, with zone)")] = None,
    ) -> Page[AuditEventView]:
        """Newest first; `since` (inclusive) and `until` (exclusive) are ISO 8601 times with a zone."""
        where = AuditFilter(actor_id=actor_id, event=event, since=since, until=until)
        return await audit.listing(where, pagination)
