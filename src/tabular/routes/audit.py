"""`/api/audit`: the organization's audit log (admins only), newest first."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from tabular.db.audit import AuditEventType
from tabular.policies.requirements import requires
from tabular.routes.dependencies import service
from tabular.routes.paging import NEXT_LINK, Cursor, linked
from tabular.schemas.audit import AuditEventView, AuditFilter
from tabular.schemas.common import CursorPage, Pagination
from tabular.services.audit import AuditService
from tabular.vocabulary import Action, Resource


class AuditController(Controller):
    """Read-only: the log is written by the system, never through the API."""

    path = "/api/audit"
    tags = ["audit"]  # noqa: RUF012
    dependencies = {"audit": service(AuditService)}  # noqa: RUF012

    @get("", **requires(Resource.AUDIT_EVENT, Action.LIST), response_headers=NEXT_LINK, summary="List audit events")
    async def list_audit_events(
        self,
        request: Request[Any, Any, Any],
        audit: NamedDependency[AuditService],
        pagination: NamedDependency[Pagination],
        actor_id: Annotated[UUID | None, QueryParameter(description="Only events by this user")] = None,
        event: Annotated[AuditEventType | None, QueryParameter(description="Only events of this type")] = None,
        since: Annotated[dt.datetime | None, QueryParameter(description="At or after (ISO 8601, with zone)")] = None,
        until: Annotated[dt.datetime | None, QueryParameter(description="Before (ISO 8601, with zone)")] = None,
        cursor: Cursor = None,
    ) -> Response[CursorPage[AuditEventView]]:
        """Newest first; `since` (inclusive) and `until` (exclusive) are ISO 8601 times with a zone.

        Page by `offset`, or by `cursor` (the previous page's `next`, also in its `Link` header): a cursor
        neither repeats nor skips an event while new ones are recorded.
        """
        where = AuditFilter(actor_id=actor_id, event=event, since=since, until=until)
        return linked(request, await audit.listing(where, pagination, cursor))
