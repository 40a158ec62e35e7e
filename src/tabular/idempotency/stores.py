"""Where the first answer to a key is kept: the database, or Redis when configured (the database during an outage).

Both keep one entry per (subject, key): claimed by the first request (pending, for `PENDING` at most, so a
request that died with its process frees its key), then holding that request's answer for `KEPT`.
Claiming is atomic in both (a unique row; `SET … NX`), so of concurrent duplicates exactly one runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Final, Protocol

import msgspec
from redis.exceptions import RedisError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from tabular.auth.at_rest import SealingKey
from tabular.db import IdempotencyRecord
from tabular.db.base import utcnow

if TYPE_CHECKING:
    from collections.abc import Callable

    from redis.asyncio import Redis, RedisCluster
    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)

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


class Store(Protocol):
    """Where keys and their answers are kept."""

    async def claim(self, subject: str, key: str, fingerprint: str) -> Claim:
        """Take the key for this request, or say what the request meets instead."""
        ...

    async def keep(self, subject: str, key: str, fingerprint: str, answer: Answer) -> None:
        """Keep the answer of the request that claimed the key, for `KEPT`."""
        ...

    async def release(self, subject: str, key: str) -> None:
        """Free the key: its request failed, so the client may send it again."""
        ...


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


class DatabaseStore:
    """One `idempotency_record` row per key; expired rows are deleted as their key is claimed again."""

    def __init__(self, session_maker: Callable[[], AsyncSession], sealer: Sealer) -> None:
        self._session_maker = session_maker
        self._sealer = sealer

    async def claim(self, subject: str, key: str, fingerprint: str) -> Claim:  # noqa: D102 - as `Store`
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

    async def keep(self, subject: str, key: str, fingerprint: str, answer: Answer) -> None:  # noqa: ARG002, D102
        sealed = self._sealer.seal(answer, subject, key)
        async with self._session_maker() as session, session.begin():
            values = {"answer": sealed, "expires_at": utcnow() + KEPT}
            await session.execute(update(IdempotencyRecord).where(*_row(subject, key)).values(values))

    async def release(self, subject: str, key: str) -> None:  # noqa: D102 - as `Store`
        async with self._session_maker() as session, session.begin():
            await session.execute(delete(IdempotencyRecord).where(*_row(subject, key)))


def _row(subject: str, key: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return IdempotencyRecord.subject == subject, IdempotencyRecord.key == key


class _Entry(msgspec.Struct, array_like=True, frozen=True):
    fingerprint: str
    answer: bytes | None = None
    """Sealed (`Sealer`); None while the first request runs."""


class RedisStore:
    """One Redis string per key (`idempotency:<subject>:<key>`), expiring on its own."""

    def __init__(self, redis: Redis | RedisCluster, sealer: Sealer) -> None:
        self._redis = redis
        self._sealer = sealer

    async def claim(self, subject: str, key: str, fingerprint: str) -> Claim:  # noqa: D102 - as `Store`
        name = _name(subject, key)
        pending = msgspec.msgpack.encode(_Entry(fingerprint))
        if await self._redis.set(name, pending, nx=True, px=_ms(PENDING)):
            return Claim(Verdict.RUN)
        kept: bytes | None = await self._redis.get(name)  # type: ignore[assignment]  # bytes: no decode_responses
        if kept is None:  # expired or released in between
            return await self.claim(subject, key, fingerprint)
        entry = msgspec.msgpack.decode(kept, type=_Entry)
        return _judge(fingerprint, (entry.fingerprint, entry.answer), self._sealer, subject, key)

    async def keep(self, subject: str, key: str, fingerprint: str, answer: Answer) -> None:  # noqa: D102
        entry = _Entry(fingerprint, self._sealer.seal(answer, subject, key))
        await self._redis.set(_name(subject, key), msgspec.msgpack.encode(entry), px=_ms(KEPT))

    async def release(self, subject: str, key: str) -> None:  # noqa: D102 - as `Store`
        await self._redis.delete(_name(subject, key))


def _name(subject: str, key: str) -> str:
    return f"idempotency:{subject}:{key}"


def _ms(duration: dt.timedelta) -> int:
    return int(duration.total_seconds() * 1000)


class ResilientStore:
    """Redis while it answers; the database for a request that finds Redis down (logged)."""

    def __init__(self, redis: RedisStore | None, database: DatabaseStore) -> None:
        self._redis = redis
        self._database = database
        self._fell_back: set[tuple[str, str]] = set()

    async def claim(self, subject: str, key: str, fingerprint: str) -> Claim:  # noqa: D102 - as `Store`
        if self._redis is not None:
            try:
                return await self._redis.claim(subject, key, fingerprint)
            except RedisError:
                logger.warning("Redis did not answer: this Idempotency-Key is kept in the database")
                claim = await self._database.claim(subject, key, fingerprint)
                if claim.verdict is Verdict.RUN:  # its answer is kept (or the key freed) where it was claimed
                    self._fell_back.add((subject, key))
                return claim
        return await self._database.claim(subject, key, fingerprint)

    async def keep(self, subject: str, key: str, fingerprint: str, answer: Answer) -> None:  # noqa: D102
        await self._store_of(subject, key).keep(subject, key, fingerprint, answer)

    async def release(self, subject: str, key: str) -> None:  # noqa: D102 - as `Store`
        await self._store_of(subject, key).release(subject, key)

    def _store_of(self, subject: str, key: str) -> Store:
        if self._redis is None or (subject, key) in self._fell_back:
            self._fell_back.discard((subject, key))
            return self._database
        return self._redis
