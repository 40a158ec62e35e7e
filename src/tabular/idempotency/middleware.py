"""Runs a creating request under its `Idempotency-Key` once, and replays its answer to the same request again.

Inside authentication and the rate limiter: the key is the principal's (a replay still counts as a
request). A replay is answered before the route's guard: it changes nothing and returns what this same
principal was answered before.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import TYPE_CHECKING, Final

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.status_codes import HTTP_201_CREATED

from tabular.auth.client_ip import client_ip, rate_subject
from tabular.db.config import before_commit
from tabular.db.outage import DatabaseUnavailable
from tabular.errors import FieldError, TabularError, ValidationFailed, send_problem
from tabular.idempotency.stores import Answer, Verdict

if TYPE_CHECKING:
    from litestar.handlers import HTTPRouteHandler
    from litestar.types import (
        ASGIApp,
        HTTPResponseStartEvent,
        HTTPScope,
        Message,
        Receive,
        ReceiveMessage,
        Scope,
        Send,
    )
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import Principal
    from tabular.idempotency.stores import IdempotencyStore

HEADER: Final = "Idempotency-Key"
MAX_KEY_LENGTH: Final = 255
REPLAYED: Final = (b"idempotent-replayed", b"true")


def creates(handler: HTTPRouteHandler) -> bool:
    """Whether a route creates something, so takes `Idempotency-Key`: it answers 201 Created (every one a POST).

    The one test: the middleware applies keys where it holds, and `contract.complete` documents the header on
    the operations whose success is a 201.
    """
    return getattr(handler, "status_code", None) == HTTP_201_CREATED  # a mounted ASGI app has none


def key_problem(raw: str) -> str | None:
    """What is wrong with a key as sent, or None."""
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or not all("!" <= character <= "~" for character in raw):
        return f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, without spaces"
    return None


class IdempotencyMiddleware(ASGIMiddleware):
    """Claims the key, runs the request, keeps a 2xx answer with its change (or frees the key); replays or refuses."""

    scopes = (ScopeType.HTTP,)

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        """Only routes that create something take a key."""
        return not creates(scope["route_handler"])  # type: ignore[arg-type]

    def __init__(self, store: IdempotencyStore, trusted_proxies: tuple[str, ...]) -> None:
        self.store = store
        self.trusted_proxies = trusted_proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Without the header, the request as it is; with one, claimed, replayed or refused."""
        raw = _header(scope)
        if raw is None:
            await next_app(scope, receive, send)
            return
        if problem_text := key_problem(raw):
            errors = [FieldError(message=problem_text, field=HEADER, source="header")]
            await send_problem(send, scope, ValidationFailed(problem_text, errors=errors))
            return
        handler: HTTPRouteHandler = scope["route_handler"]  # type: ignore[assignment]
        messages, body = await _read_body(receive, handler.resolve_request_max_body_size())
        if body is None:  # past the body limit: the route refuses it (413) without a key being spent
            await next_app(scope, _replaying(messages, receive), send)
            return
        subject, fingerprint = self._subject(scope), _fingerprint(scope, body)  # type: ignore[arg-type]
        claim = await self.store.claim(subject, raw, fingerprint)
        if claim.verdict is Verdict.REPLAY and claim.answer is not None:
            await _replay(send, claim.answer)
        elif claim.verdict is Verdict.IN_USE:
            await send_problem(send, scope, TabularError(IN_USE, code="idempotency_key_in_use", status=409))
        elif claim.verdict is Verdict.REUSED:
            await send_problem(send, scope, TabularError(REUSED, code="idempotency_key_reused", status=422))
        else:
            await self._run(scope, _replaying(messages, receive), send, next_app, (subject, raw, fingerprint))

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp, claimed: tuple[str, str, str]
    ) -> None:
        subject, key, _ = claimed
        sent: list[int] = []

        async def keep(session: AsyncSession, start: HTTPResponseStartEvent, body: bytes) -> None:
            headers = [(bytes(name), bytes(value)) for name, value in start.get("headers", ())]
            await self.store.keep(session, subject, key, Answer(start["status"], headers, body))

        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent.append(message["status"])
            await send(message)

        before_commit(scope, keep)  # stored with the change it answers, or not at all
        try:
            await next_app(scope, receive, watching)
        finally:
            if not sent or not 200 <= sent[0] < 300:  # noqa: PLR2004 - the client may fix it and send it again
                with contextlib.suppress(DatabaseUnavailable):  # then the claim lapses after `PENDING`
                    await self.store.release(subject, key)

    def _subject(self, scope: Scope) -> str:
        principal: Principal | None = scope.get("user")
        if principal is not None:
            return f"user:{principal.user_id}"
        return rate_subject(client_ip(scope, self.trusted_proxies))


IN_USE: Final = "A request with this Idempotency-Key is still being processed; retry when it has finished."
REUSED: Final = "This Idempotency-Key was used for a different request; use a new key for a new request."


def _header(scope: Scope) -> str | None:
    wanted = HEADER.lower().encode()
    for name, value in scope["headers"]:
        if name == wanted:
            return value.decode("latin-1")
    return None


def _fingerprint(scope: HTTPScope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


async def _read_body(receive: Receive, limit: int | None) -> tuple[list[ReceiveMessage], bytes | None]:
    """The request's messages as received, and its body (None past `limit`: read no further)."""
    messages: list[ReceiveMessage] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if limit is not None and size > limit:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)  # type: ignore[misc]


def _replaying(messages: list[ReceiveMessage], receive: Receive) -> Receive:
    """A `receive` that gives the messages already read, then goes on reading."""
    pending = list(messages)

    async def replay() -> ReceiveMessage:
        return pending.pop(0) if pending else await receive()

    return replay


async def _replay(send: Send, answer: Answer) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": [*answer.headers, REPLAYED]})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})
