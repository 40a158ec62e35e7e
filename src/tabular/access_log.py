"""The access log: one JSON line per request, formatted and written by a thread, never by the event loop.

The request path only builds a log record and puts it on a queue (a few microseconds); a listener thread
turns it into JSON and writes it to standard output. uvicorn's own access log, which formats and writes
on the loop, is switched off by `tabular serve`. Nothing secret is logged: no query string, no header.

Each request carries an id: the caller's `X-Request-ID` when it is a short token, a new one otherwise;
the response echoes it and the line records it, with the worker's process id, so one request can be
followed from a client's log to the worker that served it.
"""

from __future__ import annotations

import itertools
import logging
import queue
import re
import secrets
import sys
import time
from logging.handlers import QueueHandler, QueueListener
from typing import TYPE_CHECKING, Final, TextIO

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from tabular.auth.client_ip import client_ip

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from tabular.auth.principal import Principal

LOGGER_NAME: Final = "tabular.access"
logger = logging.getLogger(LOGGER_NAME)


class AccessLine(msgspec.Struct, frozen=True, omit_defaults=True):
    """What one line says about one request; `time` is filled in by the writer thread."""

    method: str
    path: str
    status: int
    duration_ms: float
    client_ip: str
    request_id: str
    user_id: str | None = None
    credential: str | None = None
    time: str = ""
    pid: int = 0


class JsonLines(logging.Formatter):
    """Formats an access record as its JSON line (in the listener thread)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's `access` line, or the plain message for anything else logged here."""
        line: AccessLine | None = getattr(record, "access", None)
        if line is None:
            return record.getMessage()
        moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        return msgspec.json.encode(msgspec.structs.replace(line, time=moment, pid=record.process or 0)).decode()


class AccessLog:
    """Owns the queue and the writer thread; `start` and `stop` follow the application's life."""

    def __init__(self, stream: TextIO | None = None) -> None:
        handler = logging.StreamHandler(stream or sys.stdout)
        handler.setFormatter(JsonLines())
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._listener = QueueListener(self._queue, handler)
        self._handler = _Enqueue(self._queue)

    def start(self) -> None:
        """Attach the queue to the access logger and start the writer thread."""
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(self._handler)
        self._listener.start()

    def stop(self) -> None:
        """Detach, write what is queued, and stop the thread."""
        logger.removeHandler(self._handler)
        self._listener.stop()


class _Enqueue(QueueHandler):
    """Puts the record on the queue as it is: the line is built in the writer thread, not here."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class AccessLogMiddleware(ASGIMiddleware):
    """Times the request and logs its line once the response has been sent."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, trusted_proxies: tuple[str, ...]) -> None:
        self.trusted_proxies = trusted_proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Pass the request on, noting the status and echoing its id; log after the last byte (or the failure)."""
        started = time.perf_counter()
        status = 500
        request_id = _request_id(scope)

        async def note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await next_app(scope, receive, note_status)
        finally:
            if logger.handlers:
                self._log(scope, status, time.perf_counter() - started, request_id)

    def _log(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        principal: Principal | None = scope.get("user")
        line = AccessLine(
            method=str(scope.get("method", "")),
            path=scope["path"],
            status=status,
            duration_ms=round(seconds * 1000, 3),
            client_ip=client_ip(scope, self.trusted_proxies),
            request_id=request_id,
            user_id=None if principal is None else str(principal.user_id),
            credential=None if principal is None else principal.credential.value,
        )
        logger.info("access", extra={"access": line})


def _request_id(scope: Scope) -> str:
    """The caller's `X-Request-ID` if it is 1-64 characters of `[A-Za-z0-9._-]`; a new one otherwise.

    A new id is this process's random prefix and a counter: unique without a random draw per request.
    """
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if _REQUEST_ID.fullmatch(value):
                return value.decode()
            break
    return f"{_PROCESS_PREFIX}{next(_SEQUENCE):012x}"


_REQUEST_ID: Final = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_PROCESS_PREFIX: Final = secrets.token_hex(10)
_SEQUENCE: Final = itertools.count(1)
