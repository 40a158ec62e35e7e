"""Alembic environment: runs the migration chain on the async engine of the configured database."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tabular.db import metadata
from tabular.db.migrations import compare_type
from tabular.settings import Settings

config = context.config
# `tabular db upgrade` and the tests pass the URL; a bare `alembic …` uses the configured database.
database_url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=compare_type,
        render_as_batch=connection.dialect.name == "sqlite",
        user_module_prefix="advanced_alchemy.types.",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(database_url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


def _run_offline() -> None:
    context.configure(url=database_url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())
