"""Queueing an event: one delivery row per subscribed endpoint, in the transaction of the change itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import select

from tabular.db import WebhookDelivery, WebhookEndpoint
from tabular.db.base import utcnow

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.db import WebhookEvent


async def enqueue(session: AsyncSession, workspace_id: UUID, event: WebhookEvent, data: dict[str, Any]) -> None:
    """Queue `event` for every endpoint of the workspace that subscribes to it.

    The body is made once, here, and is exactly what is signed and sent on every attempt: `{"type",
    "timestamp", "data"}`. Committed with the change or rolled back with it: the worker sends only what
    was committed.
    """
    endpoints = await session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id))
    subscribed = [endpoint for endpoint in endpoints if event.value in endpoint.events]
    if not subscribed:
        return
    now = utcnow()
    body = msgspec.json.encode({"type": event.value, "timestamp": now, "data": data}).decode()
    session.add_all(
        WebhookDelivery(endpoint_id=endpoint.id, event=event.value, body=body, next_attempt_at=now)
        for endpoint in subscribed
    )
    await session.flush()
