"""The delivery worker: claims due deliveries from the table, POSTs them signed, records what happened.

The table is the queue. Claiming a delivery counts the attempt and moves `next_attempt_at` a lease ahead, in
one conditional UPDATE (two workers never both win it); a worker that dies mid-send leaves it due again when
the lease runs out. A worker claims one delivery at a time, just before sending it, so the lease covers one
send; and it sends only while the claim is still its own (the attempt count it set), so a delivery another
worker took over after a lease ran out, or that was re-sent meanwhile, is not sent twice by it. A 2xx is
delivered; anything else is retried after `retry_delay`, doubled each time, up to `MAX_ATTEMPTS`, then failed
(and re-sendable through the API).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Final

import httpx
from sqlalchemy import CursorResult, select, update

from tabular.db import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tabular.db.base import utcnow
from tabular.db.outage import DatabaseUnavailable
from tabular.webhooks.addresses import Unreachable, checked_addresses, pinned
from tabular.webhooks.signing import sign

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.at_rest import AtRest
    from tabular.settings import Settings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 8
LEASE: Final = dt.timedelta(seconds=60)
"""How long a claimed delivery is a worker's: several times `TIMEOUT`, so a live worker finishes its one send."""
TIMEOUT: Final = 10.0


class DeliveryWorker:
    """One per application process, started and stopped with it; every process may run one."""

    def __init__(self, sessions: Callable[[], AsyncSession], settings: Settings, at_rest: AtRest) -> None:
        self._sessions = sessions
        self._settings = settings
        self._at_rest = at_rest
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Begin polling the queue in the background."""
        self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="webhook-deliveries")

    async def stop(self) -> None:
        """Stop polling: the delivery under way ends first (its send waits `TIMEOUT` at most), then the task.

        A task cancelled mid-query can leave its database connection open (asyncpg's is then only closed by
        the garbage collector), so it is cancelled only if it outlives that grace. Deliveries this round had
        claimed but not sent are due again after their lease.
        """
        if self._task is not None:
            self._stopping.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=TIMEOUT + 1)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                sent = await self.run_once()
            except DatabaseUnavailable:  # the outage is said once, by the engine (`db.outage`); tried again next round
                sent = 0
            except Exception:  # nothing must end the worker: it tries again next round
                logger.exception("webhook deliveries: a round failed")
                sent = 0
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self._settings.webhooks_poll_interval)

    async def run_once(self) -> int:
        """Claim and send what is due now, one delivery at a time; how many deliveries were attempted."""
        sent = 0
        while not self._stopping.is_set() and (claim := await self.claim()) is not None:
            await self._deliver(*claim)
            sent += 1
        return sent

    async def claim(self) -> tuple[UUID, int] | None:
        """Take the delivery due first, counting the attempt (due again only after `LEASE`): its id and count."""
        now = utcnow()
        async with self._sessions() as session, session.begin():
            while True:  # another worker may win the one found first; then the next is tried
                due = (
                    await session.execute(
                        select(WebhookDelivery.id, WebhookDelivery.attempts)
                        .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now)
                        .order_by(WebhookDelivery.next_attempt_at)
                        .limit(1)
                    )
                ).first()
                if due is None:
                    return None
                delivery_id, attempts = due
                won = await session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id == delivery_id,
                        WebhookDelivery.attempts == attempts,
                        WebhookDelivery.status == DeliveryStatus.PENDING,
                    )
                    .values(attempts=attempts + 1, next_attempt_at=now + LEASE, updated_at=now),
                    execution_options={"synchronize_session": False},
                )
                if isinstance(won, CursorResult) and won.rowcount == 1:
                    return delivery_id, attempts + 1

    async def _deliver(self, delivery_id: UUID, attempts: int) -> None:
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(WebhookDelivery, WebhookEndpoint)
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .where(
                        WebhookDelivery.id == delivery_id,
                        WebhookDelivery.attempts == attempts,  # still this worker's claim
                        WebhookDelivery.status == DeliveryStatus.PENDING,
                    )
                )
            ).one_or_none()
        if found is None:  # its endpoint was deleted, or the delivery re-sent or taken over, meanwhile
            return
        delivery, endpoint = found
        status_code, error = await self._send(delivery, endpoint)
        await self._record(delivery, status_code, error)

    async def _send(self, delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> tuple[int | None, str | None]:
        """POST the delivery to the addresses just checked, in turn until one connects.

        Returns the answer's status, and what went wrong (None when it was a 2xx).
        """
        try:
            addresses = await checked_addresses(endpoint.url, allow_private=self._settings.webhooks_allow_private)
        except Unreachable as problem:
            return None, f"not sent: the URL {problem}"
        assert self._client is not None  # noqa: S101 - started before the first round
        body = delivery.body.encode()
        timestamp = int(time.time())
        secret = self._at_rest.webhook_secret(endpoint.id, endpoint.secret_salt)
        headers = {
            "content-type": "application/json",
            "user-agent": "Tabular-Webhooks",
            "webhook-id": str(delivery.id),
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, str(delivery.id), timestamp, body),
        }
        error = "not sent: the URL resolves to no address"
        for address in addresses:
            target = pinned(endpoint.url, address)
            try:
                answer = await self._client.post(
                    target.url, content=body, headers=headers | target.headers, extensions=target.extensions
                )
            except httpx.ConnectError as exc:  # this address refused; the next one may not
                error = f"{type(exc).__name__}: {exc}"[:500]
                continue
            except httpx.HTTPError as exc:
                return None, f"{type(exc).__name__}: {exc}"[:500]
            if answer.is_success:
                return answer.status_code, None
            return answer.status_code, f"the endpoint answered {answer.status_code}"
        return None, error

    async def _record(self, delivery: WebhookDelivery, status_code: int | None, error: str | None) -> None:
        now = utcnow()
        values: dict[str, object] = {"last_status_code": status_code, "updated_at": now}
        if error is None:  # `last_error` is kept after a later success: what went wrong before stays readable
            values |= {"status": DeliveryStatus.DELIVERED, "delivered_at": now}
        elif delivery.attempts >= MAX_ATTEMPTS:
            values |= {"status": DeliveryStatus.FAILED, "last_error": error}
        else:
            delay = self._settings.webhooks_retry_delay * 2 ** (delivery.attempts - 1)
            values |= {"next_attempt_at": now + dt.timedelta(seconds=delay), "last_error": error}
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery.id, WebhookDelivery.attempts == delivery.attempts)
                .values(values),
                execution_options={"synchronize_session": False},
            )
