"""The access log: one JSON line per request, formatted and written by a thread, never by the event loop.

The request path only puts the line's fields on a queue (a few microseconds); a writer thread turns
them into JSON and writes whatever has gathered to standard output in one write. uvicorn's own access
log, which formats and writes on the loop, is switched off by `tabular serve`. Nothing secret is logged:
no query string, no header, and not even the path: the route's template stands for it.

Each request carries an id (`request_ids`: a trusted proxy's `X-Request-ID`, a new one otherwise), decided
here, by the middleware around the router (so a request no route matches has one too), whether the log is
on or off: the response returns it, problem documents carry it and the line records it with the worker's
process id, so one request can be followed from a client's report to the worker that served it. The line
names the principal (user id, credential kind) and, for a refusal, the problem's code.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from typing import TYPE_CHECKING, Final, TextIO

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from tabular.auth.client_ip import client_ip, from_trusted_proxy
from tabular.errors import REFUSAL_KEY
from tabular.request_ids import HEADER, assign

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from tabular.auth.principal import Principal


class AccessLine(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """What one line says about one request, in the order of the text format's line: the time first.

    `time` and `pid` are filled in by the writer thread.
    """

    time: str = ""
    client_ip: str
    method: str
    path: str
    """The route's template (`/api/surveys/{survey_id}`), `-` when no route took the request: never the path
    sent, so no id, no query, nothing a client wrote, and as few distinct values as `/metrics`' `path` label."""
    status: int
    refusal: str | None = None
    """The problem's `code` when the request was refused (`unauthenticated`, `forbidden_role`, `rate_limited`…)."""
    duration_ms: float
    credential: str | None = None
    user_id: str | None = None
    request_id: str
    pid: int = 0


class AccessLog:
    """A queue and the thread that drains it: every line waiting is encoded and written in one write.

    The request path only puts `(time, line)` on the queue. Under load the thread finds many lines at once
    and writes them together, so the cost of writing does not grow with the request rate. (A first version
    on the standard `logging` machinery, a record per line and a write and flush per record, took about a
    fifth of a warm who-am-I's throughput in `bench/load.py`: 1,005 req/s with it, 1,291 without; this one
    measured 1,298 with it.)
    """

    def __init__(self, stream: TextIO | None = None, *, text: bool = False) -> None:
        self._stream = stream or sys.stdout
        self._text = text
        self._queue: queue.SimpleQueue[tuple[float, AccessLine] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def put(self, line: AccessLine) -> None:
        """Queue one request's line (called on the event loop: no formatting, no I/O)."""
        self._queue.put((time.time(), line))

    def start(self) -> None:
        """Start the writer thread."""
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._drain, name="access-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued and stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _drain(self) -> None:
        while True:
            batch = [self._queue.get()]
            with contextlib.suppress(queue.Empty):
                while len(batch) < _MOST_PER_WRITE:
                    batch.append(self._queue.get_nowait())
            lines = [self._encode(*item) for item in batch if item is not None]
            if lines:
                self._stream.write("".join(lines))
                self._stream.flush()
            if None in batch:
                return

    def _encode(self, moment: float, line: AccessLine) -> str:
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))
        stamp = f"{seconds}.{int(moment % 1 * 1000):03d}Z"
        if self._text:  # `--log-format text`: the same fields, for a person at a terminal
            who = f" {line.credential} {line.user_id}" if line.user_id else ""
            refusal = f" {line.refusal}" if line.refusal else ""
            return (
                f"{stamp} {line.client_ip} {line.method} {line.path} {line.status}{refusal} {line.duration_ms}ms"
                f"{who} id={line.request_id} pid={self._pid}\n"
            )
        return msgspec.json.encode(msgspec.structs.replace(line, time=stamp, pid=self._pid)).decode() + "\n"


_MOST_PER_WRITE: Final = 1000
_NO_ROUTE: Final = "-"
"""`path` for a request no route took: none matched its path (404) or its method (405)."""


class AccessLogMiddleware(ASGIMiddleware):
    """Decides the request's id and returns it; with a log, times the request and logs its line once answered."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, log: AccessLog | None, trusted_proxies: tuple[str, ...]) -> None:
        self.log = log
        self.trusted_proxies = trusted_proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Pass the request on, noting the status and returning its id; log after the last byte (or the failure)."""
        started = time.perf_counter()
        status = 500
        request_id = assign(scope, from_proxy=from_trusted_proxy(scope, self.trusted_proxies))
        header = (HEADER, request_id.encode())

        async def note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await next_app(scope, receive, note_status)
        finally:
            if self.log is not None:
                self._log(self.log, scope, status, time.perf_counter() - started, request_id)

    def _log(self, log: AccessLog, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        principal: Principal | None = scope.get("user")
        refusal = scope.get(REFUSAL_KEY) if status >= 400 else None  # noqa: PLR2004
        line = AccessLine(
            method=str(scope.get("method", "")),
            path=scope.get("path_template") or _NO_ROUTE,
            status=status,
            duration_ms=round(seconds * 1000, 3),
            client_ip=client_ip(scope, self.trusted_proxies),
            request_id=request_id,
            user_id=None if principal is None else str(principal.user_id),
            credential=None if principal is None else principal.credential.value,
            refusal=refusal if isinstance(refusal, str) else None,
        )
        log.put(line)
