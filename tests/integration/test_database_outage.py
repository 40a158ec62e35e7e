"""A 2xx means it is stored: PostgreSQL stopped under concurrent writes, a connection killed at commit, Redis killed.

On a PostgreSQL cluster of this module's own (stopping the session's would pull it from under other tests),
through the real app: every answered 2xx is in the database afterwards, nothing answers 500, the outage is
503 `database_unavailable` with `Retry-After`, the log says it once each way, and writes succeed again
after the server returns. Bounded: a fixed number of clients, each loop ends on a flag or a deadline.
"""

from __future__ import annotations

import re
import uuid
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import asyncpg
import httpx
import pytest
from sqlalchemy import event, make_url, select
from sqlalchemy.util import await_only

from tabular.db import Response, Workspace
from tabular.db.migrations import upgrade
from tests.support.clients import app_client, assert_problem, key
from tests.support.db import committed_session, seed
from tests.support.live import serving
from tests.support.resources import create_survey, submission
from tests.support.servers import PostgresServer, RedisServer
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from tabular.demo import DemoData

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

CLIENTS = 8
"""Concurrent clients, as in the outage that lost a write."""
OUTAGE_SECONDS = 3.0
BOUND_SECONDS = 60.0
"""No phase of a test waits longer than this: a hang fails instead of stalling the suite."""


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = PostgresServer(tmp_path_factory.mktemp("outage-postgres"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def database(own_postgres: PostgresServer) -> tuple[str, DemoData]:
    """A migrated database with the demo organization, on the module's own server."""
    name = f"outage_{uuid.uuid4().hex}"
    own_postgres.execute(f'CREATE DATABASE "{name}"')
    url = own_postgres.url(name)
    await anyio.to_thread.run_sync(upgrade, url)
    return url, await seed(url)


class Tally:
    """What the clients were answered: the ids of stored responses, and every status."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.statuses: list[int] = []
        self.problems: list[Any] = []

    def record(self, answer: Any) -> None:
        self.statuses.append(answer.status_code)
        if answer.status_code == 201:
            self.created.append(answer.json()["id"])
        elif answer.status_code >= 400:
            self.problems.append((answer.status_code, answer.headers, answer.json()))


@asynccontextmanager
async def clients_sending(client: httpx.AsyncClient, demo: DemoData) -> AsyncIterator[Tally]:
    """`CLIENTS` clients alternating a public submission and a member's read of the survey, until the block ends."""
    survey = await create_survey(client, key(demo, "admin"), demo.workspaces[0].id, publish=True)
    body, reader = submission(survey), key(demo, "member")
    tally, stop = Tally(), anyio.Event()

    async def keep_sending() -> None:
        while not stop.is_set():
            tally.record(await client.post(f"/api/public/surveys/{survey['id']}/responses", json=body))
            tally.record(await client.get(f"/api/surveys/{survey['id']}", headers=reader))

    async with anyio.create_task_group() as clients:
        for _ in range(CLIENTS):
            clients.start_soon(keep_sending)
        try:
            yield tally
        finally:
            stop.set()


async def stored_responses(database_url: str) -> set[str]:
    async with committed_session(database_url) as session:
        return {str(row) for row in await session.scalars(select(Response.id))}


async def wait_for(condition: Any, *, step: float = 0.05) -> None:
    with anyio.fail_after(BOUND_SECONDS):
        while not condition():  # noqa: ASYNC110 - the condition is the clients' tally, which signals nothing
            await anyio.sleep(step)


@asynccontextmanager
async def live_server(
    tmp_path: Path, database_url: str, redis_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Path]]:
    """`tabular serve` on the database, limited through Redis, and a client; the server's log is the path.

    A real server (its own event loop and log) rather than the in-process test client, whose transport runs each
    request to its end on the test's loop: eight concurrent clients would take turns, not contend.
    """
    variables = {
        "TABULAR_DATABASE_URL": database_url,
        "TABULAR_REDIS_URL": redis_url,  # the limiter on every request, as in the outage that lost a write
        "TABULAR_RATE_LIMIT": "1000000/1m",
        "TABULAR_SECRET_KEY": TEST_SECRET,
    }
    log = tmp_path / "server.log"
    with log.open("wb") as output, serving(tmp_path, output=output, **variables) as base:
        async with httpx.AsyncClient(base_url=base, timeout=BOUND_SECONDS) as client:
            yield client, log


async def test_a_stopped_server_loses_no_acknowledged_write_and_answers_503_not_500(
    own_postgres: PostgresServer, database: tuple[str, DemoData], tmp_path: Path
) -> None:
    """`tabular serve` (a real server: its own event loop, its own log) with the database stopped under 8 clients."""
    database_url, demo = database
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        async with live_server(tmp_path, database_url, redis.url) as (client, log):
            async with clients_sending(client, demo) as tally:
                await wait_for(lambda: len(tally.created) >= 40)
                await anyio.to_thread.run_sync(own_postgres.halt)
                before_return = len(tally.statuses)
                await anyio.sleep(OUTAGE_SECONDS)
                await wait_for(lambda: 503 in tally.statuses)
                ready = await client.get("/api/ready")
                await anyio.to_thread.run_sync(own_postgres.resume)
                back = len(tally.created)
                await wait_for(lambda: len(tally.created) >= back + 40)
            ready_again = await client.get("/api/ready")
    finally:
        redis.stop()
    assert set(tally.created) <= await stored_responses(database_url), "every 201 is in the database"
    assert set(tally.statuses) <= {200, 201, 503}, sorted(set(tally.statuses))
    assert len(tally.statuses) > before_return, "requests went on during the outage"
    assert (ready.status_code, ready.json()["database"]) == (503, "down"), ready.text
    assert (ready_again.status_code, ready_again.json()["database"]) == (200, "ok"), ready_again.text
    for status, headers, body in tally.problems:
        assert (status, body["code"]) == (503, "database_unavailable")
        assert int(headers["retry-after"]) > 0
    said = log.read_text()
    assert said.count("database is down") == 1, said
    assert re.search(r"database answers again, after \d+\.\d s", said), said
    assert "Traceback" not in said, said


async def test_a_connection_killed_at_commit_answers_503_and_stores_nothing(database: tuple[str, DemoData]) -> None:
    """The commit of a request's transaction fails (its backend terminated just before): no 2xx, no row.

    Sent under an `Idempotency-Key`: the key's answer was to be stored with the change, so the retry under the
    same key runs again (no replay of an answer for lost work, no 409 for a claim left behind).
    """
    database_url, demo = database
    url = make_url(database_url)
    writers: set[int] = set()
    killed: list[int] = []
    name = "Written, then cut off"  # the workspace's

    async def terminate(pid: int) -> None:  # on the app's event loop (the test client runs it in a thread)
        killer = await asyncpg.connect(user=url.username, database=url.database, host=url.query["host"])
        try:
            await killer.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)  # waits until it is gone
        finally:
            await killer.close()

    async with app_client(database_url) as client:
        engine = client.app.state.db_config.get_engine().sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def note_writer(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.startswith("INSERT INTO workspace "):
                writers.add(id(connection.connection.dbapi_connection))

        @event.listens_for(engine, "commit")
        def kill_at_commit(connection: Any) -> None:
            dbapi = connection.connection.dbapi_connection
            if id(dbapi) in writers and not killed:
                killed.append(dbapi.driver_connection.get_server_pid())
                await_only(terminate(killed[0]))  # a sync hook awaiting on the app's loop, as SQLAlchemy does

        headers = key(demo, "admin") | {"Idempotency-Key": "cut-off-at-commit"}
        refused = await client.post("/api/workspaces", json={"name": name}, headers=headers)
        assert killed, "the commit of the workspace's transaction was cut off"
        assert_problem(refused, 503, "database_unavailable")
        assert int(refused.headers["retry-after"]) > 0
        again = await client.post("/api/workspaces", json={"name": name}, headers=headers)
        assert again.status_code == 201, again.text
        assert "idempotent-replayed" not in again.headers
    async with committed_session(database_url) as session:
        names = list(await session.scalars(select(Workspace.name).where(Workspace.name == name)))
    assert names == [name], "the cut-off commit stored nothing; the retry stored one"


async def test_redis_killed_under_load_changes_no_answer(database: tuple[str, DemoData], tmp_path: Path) -> None:
    """The limiter falls back to this process; what needs only the database keeps answering 2xx."""
    database_url, demo = database
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        async with (
            live_server(tmp_path, database_url, redis.url) as (client, log),
            clients_sending(client, demo) as tally,
        ):
            await wait_for(lambda: len(tally.created) >= 20)
            assert redis.process is not None
            redis.process.kill()  # SIGKILL: no goodbye to the clients connected
            redis.process.wait(timeout=10)
            redis.process = None
            killed_at = len(tally.created)
            await wait_for(lambda: len(tally.created) >= killed_at + 40)
    finally:
        redis.stop()
    assert set(tally.statuses) <= {200, 201}, sorted(set(tally.statuses))
    assert set(tally.created) <= await stored_responses(database_url)
    said = log.read_text()
    assert "Traceback" not in said, said
