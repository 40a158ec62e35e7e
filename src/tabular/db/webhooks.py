"""Webhooks: the endpoints a workspace pushes events to, and the queue of deliveries to them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.types import JsonB
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tabular.db.base import Base, UtcDateTime, enum_column_type


class WebhookEvent(StrEnum):
    """What an endpoint may subscribe to: the `type` of a delivery's body."""

    RESPONSE_CREATED = "response.created"
    SURVEY_PUBLISHED = "survey.published"
    SURVEY_CLOSED = "survey.closed"


class DeliveryStatus(StrEnum):
    """Where a delivery is: waiting (or being sent), received by the endpoint, or given up on."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEndpoint(Base):
    """A URL in a workspace that receives the events it subscribes to, signed with its own secret.

    The secret is not stored: it is derived from the server secret and `secret_salt` (see
    `tabular.webhooks.signing`), so a copy of the database alone cannot sign or verify a delivery.
    """

    __tablename__ = "webhook_endpoint"

    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JsonB, default=list)
    secret_salt: Mapped[str] = mapped_column(String(64))


class WebhookDelivery(Base):
    """One event for one endpoint: the queue itself, so a restart loses nothing.

    `next_attempt_at` is when a worker may take it; a worker that claims it moves it forward by a lease, so
    a delivery whose worker died is due again when the lease runs out. `body` is the exact JSON signed.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    endpoint_id: Mapped[UUID] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(enum_column_type(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
