"""What the in-process benchmarks start from: a migrated SQLite database holding the demo organization.

Imported by `auth.py`, `bodies.py`, `export.py` and `policy.py`, run as scripts from this folder.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tabular.auth.at_rest import AtRest
from tabular.db.config import make_db_config
from tabular.db.migrations import upgrade
from tabular.demo import seed_demo
from tabular.services.actor import Actor
from tabular.settings import RateSpec, Settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from tabular.demo import DemoData

UNLIMITED = RateSpec(limit=10**9, window=900)
"""Every quota: a benchmark measures the work, not the limiter."""


async def demo_database(
    directory: Path,
    *,
    secret_key: str = "bench-secret-" + "x" * 40,
    then: Callable[[Actor, DemoData], Awaitable[Any]] | None = None,
) -> tuple[Settings, DemoData]:
    """Settings for a new database in `directory` (no limits, no access log) and its demo data.

    `secret_key` is the one a server started on the database must be given too (it seals the second factors).
    `then` runs as the operator in the transaction that seeded the demo (to add what one benchmark needs).
    """
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(
        database_url=url,
        secret_key=secret_key,
        rate_limit=UNLIMITED,
        auth_rate_limit=UNLIMITED,
        account_rate_limit=UNLIMITED,
        access_log=False,  # the figures, not a line per request
    )
    config = make_db_config(settings)
    async with config.get_session() as session, session.begin():
        operator = Actor(session, at_rest=AtRest.of(settings))
        demo = await seed_demo(operator)
        if then is not None:
            await then(operator, demo)
    await config.get_engine().dispose()
    return settings, demo
