"""A key's last use is written after the response, at most once a minute, and not lost when a worker stops."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

import anyio
import pytest
from sqlalchemy import update

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
from tests.support.db import execute

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
