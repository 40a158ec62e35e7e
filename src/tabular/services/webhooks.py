"""Webhook endpoints of a workspace and their deliveries: register, list, read, delete, re-send."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from tabular.db import DeliveryStatus, WebhookDelivery, WebhookEndpoint, Workspace
from tabular.db.audit import AuditEventType
from tabular.db.base import utcnow
from tabular.errors import Conflict, FieldError, ValidationFailed
from tabular.policies.filters import visible
from tabular.schemas.common import wire
from tabular.schemas.webhooks import DeliveryView, WebhookEndpointCreated, WebhookEndpointView
from tabular.services.actor import Service
from tabular.services.common import in_organization, page
from tabular.vocabulary import Resource
from tabular.webhooks.addresses import Unreachable, checked_addresses

if TYPE_CHECKING:
    from uuid import UUID

    from tabular.schemas.common import Page, Pagination
    from tabular.schemas.webhooks import WebhookEndpointCreate

_TARGET = "webhook_endpoint"


class WebhookService(Service):
    """Acts on the endpoints the guard authorized and loaded; lists through `visible()`."""

    async def listing(self, workspace: Workspace | None, pagination: Pagination) -> Page[WebhookEndpointView]:
        """The endpoints the caller may see (in `workspace` if given), newest first."""
        query = select(WebhookEndpoint).where(visible(self.actor.caller, Resource.WEBHOOK_ENDPOINT))
        if workspace is not None:
            query = query.where(WebhookEndpoint.workspace_id == workspace.id)
        ordered = query.order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc())
        return await page(self.session, ordered, pagination, lambda row: wire(WebhookEndpointView, row[0]))

    async def create(
        self, workspace: Workspace, body: WebhookEndpointCreate, *, allow_private: bool
    ) -> WebhookEndpointCreated:
        """A new endpoint, its secret shown this once; a URL reaching a non-public address is a 422 on `url`."""
        caller = self.actor.caller
        in_organization(workspace, caller)
        try:
            await checked_addresses(body.url, allow_private=allow_private)
        except Unreachable as problem:
            raise ValidationFailed(
                f"The URL {problem}.", errors=[FieldError(message=str(problem), field="url", source="body")]
            ) from None
        endpoint = WebhookEndpoint(
            workspace_id=workspace.id,
            created_by_id=caller.user_id,
            url=body.url,
            events=[event.value for event in dict.fromkeys(body.events)],
            secret_salt=secrets.token_hex(16),
        )
        self.session.add(endpoint)
        await self.session.flush()
        await self.actor.record(
            AuditEventType.WEBHOOK_CREATED,
            target=(_TARGET, endpoint.id),
            data={"workspace_id": str(workspace.id), "url": endpoint.url, "events": endpoint.events},
        )
        secret = self.actor.at_rest.webhook_secret(endpoint.id, endpoint.secret_salt)
        return wire(WebhookEndpointCreated, endpoint, secret=secret)

    def view(self, endpoint: WebhookEndpoint) -> WebhookEndpointView:
        """The endpoint as the API shows it, without its secret."""
        return wire(WebhookEndpointView, endpoint)

    async def delete(self, endpoint: WebhookEndpoint) -> None:
        """Remove the endpoint and (by the foreign key's cascade) its deliveries: nothing more is sent to it."""
        await self.session.delete(endpoint)
        await self.actor.record(
            AuditEventType.WEBHOOK_DELETED, target=(_TARGET, endpoint.id), data={"url": endpoint.url}
        )

    async def deliveries(self, endpoint: WebhookEndpoint, pagination: Pagination) -> Page[DeliveryView]:
        """The endpoint's deliveries, newest first."""
        query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        ordered = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        return await page(self.session, ordered, pagination, lambda row: delivery_view(row[0]))

    async def resend(self, endpoint: WebhookEndpoint, delivery_id: UUID) -> DeliveryView:
        """Queue one of the endpoint's delivered or failed deliveries again, now, with its attempts counted from zero.

        Its `webhook-id` and body stay the same, so a receiver that got it before can tell it is a repeat. A
        pending one is a 409: it is queued already, and may be being sent this moment.
        """
        delivery = await self.session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id)
        )
        if delivery is None:
            problem = "no such delivery of this endpoint"
            raise ValidationFailed(
                "Name a delivery of this endpoint.",
                errors=[FieldError(message=problem, field="delivery_id", source="body")],
            )
        if delivery.status is DeliveryStatus.PENDING:
            raise Conflict(
                "The delivery is queued already; it is sent at its `next_attempt_at`.", code="delivery_pending"
            )
        delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, utcnow()
        await self.session.flush()
        return delivery_view(delivery)


def delivery_view(delivery: WebhookDelivery) -> DeliveryView:
    """A delivery as the API shows it: `next_attempt_at` only while it is pending."""
    pending = delivery.status is DeliveryStatus.PENDING
    return wire(DeliveryView, delivery, next_attempt_at=delivery.next_attempt_at if pending else None)
