"""A key's last use is written after the response, at most once a minute, and not lost when a worker stops."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

import anyio
import pytest
from sqlalchemy import select, update

from tabular.auth.key_usage import KeyUsage
from tabular.db import ApiKey
from tests.support.api_keys import (
    create_key,
    key_column,
    list_keys,
    moment,
    whoami,
    x_api_key,
)
from tests.support.clients import Client, app_client, bearer, session_headers, user
from tests.support.db import execute, open_database

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


T = TypeVar("T")


async def test_last_use_is_recorded_at_most_once_a_minute(client: Client, demo: DemoData, database_url: str) -> None:
    headers = await session_headers(client, user(demo, "member", 0))
    created = await create_key(client, headers)
    assert await key_column(database_url, created["id"], ApiKey.last_used_at) is None

    before = dt.datetime.now(dt.UTC)
    await whoami(client, x_api_key(created["key"]))  # noted in memory, written shortly after the response
    first_use = await eventually(lambda: key_column(database_url, created["id"], ApiKey.last_used_at))
    assert first_use is not None
    assert before <= first_use <= dt.datetime.now(dt.UTC)
    listed = {k["id"]: k for k in await list_keys(client, headers)}[created["id"]]
    assert moment(listed["last_used_at"]) == first_use

    await whoami(client, bearer(created["key"]))
    async with app_client(database_url) as other_worker:  # nothing cached there: only SQL holds the write back
        await whoami(other_worker, x_api_key(created["key"]))
    assert await key_column(database_url, created["id"], ApiKey.last_used_at) == first_use

    long_ago = first_use - dt.timedelta(minutes=2)
    await execute(database_url, update(ApiKey).where(ApiKey.id == UUID(created["id"])).values(last_used_at=long_ago))
    async with app_client(database_url) as third_worker:
        await whoami(third_worker, x_api_key(created["key"]))
    # the worker stopped at once: its shutdown wrote the pending use, nothing was lost
    assert await key_column(database_url, created["id"], ApiKey.last_used_at) > first_use


async def eventually(read: Callable[[], Awaitable[T]], seconds: float = 5.0) -> T | None:
    """What `read` gives once it is not None, polled for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while (value := await read()) is None and time.monotonic() < deadline:  # noqa: ASYNC110 - polls a database
        await anyio.sleep(0.05)
    return value


async def test_a_stop_waits_for_a_write_under_way_and_loses_no_use(demo: DemoData, database_url: str) -> None:
    """Stopping the app cancels a writer that is still waiting, but lets one that is writing finish.

    Another transaction holds the key's row, so the writer's UPDATE waits on it (on SQLite the whole database):
    cancelling the writer then would roll back its statement, and the uses it took would be lost.
    """
    async with open_database(database_url) as database:
        async with database.transaction() as session:
            key_id = await session.scalar(select(ApiKey.id).where(ApiKey.last_used_at.is_(None)).limit(1))
        assert key_id is not None
        usage = KeyUsage(database.config.create_session_maker(), delay=0)
        async with database.transaction() as holding:
            await holding.execute(update(ApiKey).where(ApiKey.id == key_id).values(name=ApiKey.name))
            usage.note(key_id)
            await anyio.sleep(0.3)  # the writer has taken the use and waits on the row
            assert not usage.settled
            stopping = asyncio.ensure_future(usage.close())
            await anyio.sleep(0.3)
            assert not stopping.done()  # waiting for the writer, not cancelling it
        await stopping  # the row is free: the write lands, then the stop ends
        assert usage.settled
        async with database.transaction() as session:
            assert await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id)) is not None


async def test_a_stop_cancels_a_writer_still_waiting_and_writes_its_uses_itself(
    demo: DemoData, database_url: str
) -> None:
    async with open_database(database_url) as database:
        async with database.transaction() as session:
            key_id = await session.scalar(select(ApiKey.id).where(ApiKey.last_used_at.is_(None)).limit(1))
        assert key_id is not None
        usage = KeyUsage(database.config.create_session_maker(), delay=3600)
        usage.note(key_id)
        assert not usage.settled  # the writer sleeps for an hour
        await asyncio.wait_for(usage.close(), timeout=10)  # not an hour: the sleeping writer is cancelled
        assert usage.settled
        async with database.transaction() as session:
            assert await session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id)) is not None
