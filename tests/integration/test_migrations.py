from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from anyio import to_thread
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tabular.db import metadata
from tabular.db.migrations import compare_type, downgrade, upgrade


async def _run(database_url: str, work: Any) -> Any:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": compare_type})
    return list(compare_metadata(context, metadata))


@pytest.mark.anyio
async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    assert await _run(database_url, _tables) == set(metadata.tables)
    await to_thread.run_sync(downgrade, database_url, "base")
    assert await _run(database_url, _tables) == set()
    await to_thread.run_sync(upgrade, database_url)
    assert await _run(database_url, _tables) == set(metadata.tables)


@pytest.mark.anyio
async def test_models_and_migrations_agree(database_url: str) -> None:
    assert await _run(database_url, _diff) == []


@pytest.mark.anyio
async def test_upgrade_is_idempotent(database_url: str) -> None:
    await to_thread.run_sync(upgrade, database_url)
    assert await _run(database_url, _diff) == []
