"""A webhook receiver for tests: an HTTP server on loopback, in a thread, that records every POST it gets."""

from __future__ import annotations

import asyncio
import queue
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

import msgspec

from tests.support.clients import ok

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.clients import Client

WAIT = 20.0
"""Seconds a test waits for something the worker does; a bound, not a measurement."""
FAST: dict[str, Any] = {
    "webhooks_worker": True,
    "webhooks_allow_private": True,
    "webhooks_poll_interval": 0.05,
    "webhooks_retry_delay": 0.05,
}
"""Settings: a receiver on loopback allowed, and a worker that looks at the queue often and retries soon."""


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it: headers (names in lower case) and the raw body."""

    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        return msgspec.json.decode(self.body)


class Receiver:
    """Answers each POST with the next of `statuses`, then 204; `next()` waits for the next one received."""

    def __init__(self, statuses: Iterator[int] | None = None) -> None:
        self.received: queue.Queue[Received] = queue.Queue()
        statuses = statuses or iter(())
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                received.put(Received({name.lower(): value for name, value in self.headers.items()}, body))
                self.send_response(next(statuses, 204))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    async def next(self) -> Received:
        """The next request received (waiting at most `WAIT` seconds)."""
        return await asyncio.to_thread(self.received.get, timeout=WAIT)


async def register(client: Client, headers: dict[str, str], workspace_id: str, url: str, *events: str) -> Any:
    """An endpoint registered through the API (every event unless some are named): its JSON, with the secret."""
    body = {"url": url, "events": list(events) or ["response.created", "survey.published", "survey.closed"]}
    answer = await client.post("/api/webhooks", params={"workspace_id": workspace_id}, json=body, headers=headers)
    return ok(answer, 201)


async def deliveries_once(client: Client, headers: dict[str, str], endpoint_id: str, *, until: Any) -> list[Any]:
    """The endpoint's deliveries once `until(deliveries)` holds (read every 50 ms, for at most `WAIT` seconds)."""
    async with asyncio.timeout(WAIT):
        while True:
            page = ok(await client.get(f"/api/webhooks/{endpoint_id}/deliveries", headers=headers))
            if until(page["items"]):
                return list(page["items"])
            await asyncio.sleep(0.05)
