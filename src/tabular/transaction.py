"""A request's transaction ends before its answer starts: a 2xx goes out only once its work is committed.

The answer's head is held until its first body part is ready; then the transaction commits (2xx/3xx, and
a refusal a service marked to keep) or rolls back (any other refusal, a server error), and only then is
anything sent. A commit that fails turns the answer into a 503 `database_unavailable` (nothing was stored,
so the client may retry); what the handler had made is dropped. A streamed answer (an export) is committed
before its first byte. What must be stored with the answer itself (the idempotency record of a creating
request) is written by a hook (`db.config.before_commit`) in the same transaction, so the two are stored together or
not at all.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from tabular.db.config import BEFORE_COMMIT, KEEP_ON_REFUSAL
from tabular.db.outage import DatabaseUnavailable
from tabular.errors import Unavailable, send_problem

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send
    from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)


class TransactionMiddleware(ASGIMiddleware):
    """Commits (or rolls back) the request's session between the handler's answer and the client."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, session_scope_key: str) -> None:
        self.session_scope_key = session_scope_key

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Run the request with a `send` that ends its transaction first; end it anyway if nothing was sent."""
        ending = _Ending(scope, self.session_scope_key, send)
        try:
            await next_app(scope, receive, ending.send)
        finally:
            if (session := ending.take_session()) is not None:  # no answer (the client left, a crash): undo
                await _quietly(session.rollback())
                await _quietly(session.close())


class _Ending:
    """One request's `send`: holds the head, ends the transaction at the first body part, then passes on."""

    __slots__ = ("_dropping", "_held", "_passing", "_scope", "_send", "_session_scope_key")

    def __init__(self, scope: Scope, session_scope_key: str, send: Send) -> None:
        self._scope, self._session_scope_key, self._send = scope, session_scope_key, send
        self._held: HTTPResponseStartEvent | None = None
        self._passing = False
        self._dropping = False
        """The commit failed and the 503 went out: whatever the app sends next goes nowhere."""

    async def send(self, message: Message) -> None:
        if self._passing:
            await self._send(message)
        elif self._dropping:
            return
        elif message["type"] == "http.response.start":
            if get_aa_scope_state(self._scope, self._session_scope_key) is None:  # no database work this request
                self._passing = True
                await self._send(message)
            else:
                self._held = message
        elif message["type"] == "http.response.body" and self._held is not None:
            start, self._held = self._held, None
            more = message.get("more_body", False)
            if not await self._end(start, None if more else message.get("body", b"")):
                self._dropping = True
                await send_problem(self._send, self._scope, Unavailable())
                if more:
                    raise Unavailable  # stops the stream (Litestar's answer to this goes nowhere)
                return
            self._passing = True
            await self._send(start)
            await self._send(message)

    def take_session(self) -> AsyncSession | None:
        session: AsyncSession | None = get_aa_scope_state(self._scope, self._session_scope_key)
        if session is not None:
            delete_aa_scope_state(self._scope, self._session_scope_key)
        return session

    async def _end(self, start: HTTPResponseStartEvent, body: bytes | None) -> bool:
        """Commit or roll back; whether the answer may go out as it is (False: the commit failed)."""
        session = self.take_session()
        if session is None:
            return True
        status = start["status"]
        if status >= 500 or (status >= 400 and not session.info.get(KEEP_ON_REFUSAL)):  # noqa: PLR2004
            await _quietly(session.rollback())  # nothing was stored: the refusal goes out as it is
            await _quietly(session.close())
            return True
        try:
            if body is not None and status < 300:  # noqa: PLR2004
                for hook in self._scope.get(BEFORE_COMMIT, ()):  # type: ignore[attr-defined]
                    await hook(session, start, body)
            await session.commit()
        except Exception as error:
            if not isinstance(error, DatabaseUnavailable):  # an outage is logged once, by the engine (`db.outage`)
                logger.exception("a request's transaction could not commit")
            await _quietly(session.rollback())
            return False
        finally:
            await _quietly(session.close())
        return True


async def _quietly(step: Awaitable[Any]) -> None:
    """Roll back or close a session whose connection may be gone: the outage has been said already."""
    with contextlib.suppress(Exception):
        await step
