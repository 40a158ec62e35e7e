"""Where the first answer to a key is kept: a database row per (subject, key), sealed.

Claimed by the first request (pending, for `PENDING` at most, so a request that died with its process frees
its key), then holding that request's answer for `KEPT`. Claiming is atomic (a unique row), so of concurrent
duplicates exactly one runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Final

import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from tabular.auth.at_rest import SealingKey
from tabular.db import IdempotencyRecord
from tabular.db.base import utcnow

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

KEPT: Final = dt.timedelta(hours=24)
"""How long a first answer is replayed."""
PENDING: Final = dt.timedelta(seconds=60)
"""How long a claim outlives a request that never finished (its process died): then the key is free again."""


class Answer(msgspec.Struct, array_like=True, frozen=True):
    """A response as it was sent: status, headers and body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class Verdict(Enum):
    """What a request under a key does."""

    RUN = "run"
    """The key is this request's now: run it, then `keep` or `release`."""
    REPLAY = "replay"
    IN_USE = "in_use"
    REUSED = "reused"


@dataclass(frozen=True, slots=True)
class Claim:
    """The verdict on a request's key, with the kept answer to replay."""

    verdict: Verdict
    answer: Answer | None = None


class Sealer:
    """Kept answers sealed (`SealingKey`), bound to their subject and key.

    An answer may carry a secret shown once (a new API key, a webhook's signing secret, a set-password token):
    neither the database nor Redis alone may reveal it.
    """

    __slots__ = ("_key",)

    def __init__(self, server_secret: str) -> None:
        self._key = SealingKey(server_secret, ANSWER_LABEL)

    def seal(self, answer: Answer, subject: str, key: str) -> bytes:
        """The stored form of `answer`."""
        return self._key.seal(msgspec.msgpack.encode(answer), subject.encode(), key.encode())

    def open(self, sealed: bytes, subject: str, key: str) -> Answer | None:
        """The answer, or None when this server's key does not open it (sealed under another secret)."""
        plain = self._key.open(sealed, subject.encode(), key.encode())
        return None if plain is None else msgspec.msgpack.decode(plain, type=Answer)


ANSWER_LABEL: Final = b"tabular/idempotency-answer/v1"


def _judge(fingerprint: str, kept: tuple[str, bytes | None], sealer: Sealer, subject: str, key: str) -> Claim:
    """What a request meets when its key is taken: another request's, a first still running, or its answer.

    An answer this server cannot open (kept under another server secret) is as good as none: the request runs
    and its answer replaces it.
    """
    kept_fingerprint, sealed = kept
    if kept_fingerprint != fingerprint:
        return Claim(Verdict.REUSED)
    if sealed is None:
        return Claim(Verdict.IN_USE)
    answer = sealer.open(sealed, subject, key)
    return Claim(Verdict.RUN) if answer is None else Claim(Verdict.REPLAY, answer)


class IdempotencyStore:
    """One `idempotency_record` row per key; expired rows are deleted as their key is claimed again.

    The claim commits at once, on a connection of its own, so a concurrent duplicate finds it. The answer is
    written into the request's own transaction (`keep`), so it is stored exactly when the change it describes
    is: a replay never answers for work that was lost, and work that was stored is never run twice. (Redis
    cannot join that transaction, which is why answers are not kept there.)
    """

    def __init__(self, session_maker: Callable[[], AsyncSession], sealer: Sealer) -> None:
        self._session_maker = session_maker
        self._sealer = sealer

    async def claim(self, subject: str, key: str, fingerprint: str) -> Claim:
        """Take the key for this request, or say what the request meets instead."""
        now = utcnow()
        async with self._session_maker() as session, session.begin():
            await session.execute(
                delete(IdempotencyRecord).where(*_row(subject, key), IdempotencyRecord.expires_at < now)
            )
        try:
            async with self._session_maker() as session, session.begin():
                pending = IdempotencyRecord(subject=subject, key=key, fingerprint=fingerprint, expires_at=now + PENDING)
                session.add(pending)
        except IntegrityError:  # taken: by a request still running, or one whose answer is kept
            async with self._session_maker() as session:
                row = await session.scalar(select(IdempotencyRecord).where(*_row(subject, key)))
            if row is None:  # its claim was released in between: this request may run after all
                return await self.claim(subject, key, fingerprint)
            return _judge(fingerprint, (row.fingerprint, row.answer), self._sealer, subject, key)
        return Claim(Verdict.RUN)

    async def keep(self, session: AsyncSession, subject: str, key: str, answer: Answer) -> None:
        """Keep the answer of the request that claimed the key, for `KEPT`, in that request's transaction."""
        values = {"answer": self._sealer.seal(answer, subject, key), "expires_at": utcnow() + KEPT}
        await session.execute(update(IdempotencyRecord).where(*_row(subject, key)).values(values))

    async def release(self, subject: str, key: str) -> None:
        """Free the key: its request failed, so the client may send it again."""
        async with self._session_maker() as session, session.begin():
            await session.execute(delete(IdempotencyRecord).where(*_row(subject, key)))


def _row(subject: str, key: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return IdempotencyRecord.subject == subject, IdempotencyRecord.key == key
