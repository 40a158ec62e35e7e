"""The test database from outside the application: one committed transaction, as an operator or another worker."""

from __future__ import annotations

from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, select

from tabular.db import AuditEvent
from tabular.db.base import metadata
from tabular.db.config import make_db_config
from tabular.demo import seed_demo
from tabular.services.actor import Actor
from tests.support.settings import TEST_AT_REST, make_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection, Iterator

    from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
    from sqlalchemy import Engine
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql import Executable

    from tabular.demo import DemoData


@dataclass(frozen=True)
class Database:
    """An engine of its own on the test database; each `transaction()` commits when its block ends."""

    config: SQLAlchemyAsyncConfig

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.config.get_session() as session, session.begin():
            yield session


@asynccontextmanager
async def open_database(database_url: str) -> AsyncIterator[Database]:
    """The database for many transactions (a route walk builds hundreds); its engine is disposed at the end."""
    config = make_db_config(make_settings(database_url))
    try:
        yield Database(config)
    finally:
        await config.get_engine().dispose()


@asynccontextmanager
async def committed_session(database_url: str) -> AsyncIterator[AsyncSession]:
    """One transaction on the test database, committed on exit, on an engine of its own."""
    async with open_database(database_url) as database, database.transaction() as session:
        yield session


async def seed(database_url: str) -> DemoData:
    """The demo organization (users with MFA and an API key each), straight into the database."""
    async with committed_session(database_url) as session:
        return await seed_demo(Actor(session, at_rest=TEST_AT_REST))


async def execute(database_url: str, statement: Executable) -> None:
    """Run one statement in a committed transaction (a change the API cannot make, done to the row)."""
    async with committed_session(database_url) as session:
        await session.execute(statement)


async def every_row(database: Database, *, ignore: Collection[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two of these differ exactly when something was written in between.

    `ignore` names columns (`"table.column"`) left out: what the application writes off the request path.
    """
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    async with database.transaction() as session:
        for table in metadata.sorted_tables:
            columns = [column for column in table.columns if f"{table.name}.{column.name}" not in ignore]
            rows = (await session.execute(select(*columns))).all()
            snapshot[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return snapshot


async def audit_trail(database_url: str, *events: str, operators: bool = True) -> list[AuditEvent]:
    """The recorded events, of these types when given, in chain order.

    `operators=False` leaves out what an operator did (no acting user): the demo's seeding, for one.
    """
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if events:
        query = query.where(AuditEvent.event.in_(events))
    if not operators:
        query = query.where(AuditEvent.actor_user_id.is_not(None))
    async with committed_session(database_url) as session:
        return list(await session.scalars(query))


@contextmanager
def statements_run_by(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements `engine` runs inside the block, whitespace folded: for counting queries, not timing them."""
    seen: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def selects(statements: list[str]) -> int:
    """How many of the statements read."""
    return sum(statement.upper().startswith("SELECT") for statement in statements)
