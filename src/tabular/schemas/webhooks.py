"""`/api/webhooks` bodies: endpoints a workspace pushes events to, and their deliveries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

from tabular.db import DeliveryStatus, WebhookEvent
from tabular.schemas.rules import Input, line

Url = Annotated[str, line(2000, "An http:// or https:// URL that resolves to public addresses")]


class WebhookEndpointCreate(Input, frozen=True):
    """An endpoint in the workspace given by `?workspace_id=`."""

    url: Url
    events: Annotated[list[WebhookEvent], msgspec.Meta(min_length=1, max_length=len(WebhookEvent))]


class WebhookEndpointView(msgspec.Struct, frozen=True):
    """An endpoint as listed: never its secret."""

    id: UUID
    workspace_id: UUID
    url: str
    events: list[WebhookEvent]
    created_at: dt.datetime


class WebhookEndpointCreated(WebhookEndpointView, frozen=True):
    """A new endpoint with its signing secret, shown this once: keep it to verify deliveries."""

    secret: str


class DeliveryView(msgspec.Struct, frozen=True):
    """One event sent (or to be sent) to an endpoint; `id` is its `webhook-id`, the same on every attempt."""

    id: UUID
    event: WebhookEvent
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    """When it is tried next; null once delivered or failed."""
    last_status_code: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime


class Resend(Input, frozen=True):
    """Which delivery of the endpoint to send again (its body unchanged, attempts counted anew)."""

    delivery_id: UUID
