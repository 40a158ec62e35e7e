from __future__ import annotations

import functools
import hashlib
from typing import TYPE_CHECKING, Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from anyio import to_thread
from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tabular.db import AuditEvent, RecoveryCode, User, metadata
from tabular.db.audit import verify_chain
from tabular.db.base import utcnow
from tabular.db.migrations import MigrationRefusedError, compare_type, downgrade, upgrade
from tests.support.db import committed_session
from tests.support.factories import new_organization, new_user
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from uuid import UUID

    from tabular.demo import DemoData


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


def _columns(table: str) -> Any:
    return lambda connection: {column["name"] for column in inspect(connection).get_columns(table)}


async def _without_sealed_second_factors(database_url: str) -> None:
    """The demo users' MFA off, as 0004's downgrade asks: below it nothing can read a sealed secret."""
    async with committed_session(database_url) as session:
        await session.execute(update(User).values(totp_secret=None, mfa_enabled_at=None))
        await session.execute(delete(RecoveryCode))


@pytest.mark.anyio
async def test_0003_re_chains_existing_events_with_the_key(database_url: str, demo: DemoData) -> None:
    """Events written before the chain had a key are verified, numbered per organization and re-hashed."""
    key = make_settings(database_url).audit_key
    await _without_sealed_second_factors(database_url)
    await to_thread.run_sync(downgrade, database_url, "0002")  # the demo's events, as 0002 chained them
    await to_thread.run_sync(functools.partial(upgrade, database_url, audit_key=key))
    async with committed_session(database_url) as session:
        head = await verify_chain(session)
        total = await session.scalar(select(func.count()).select_from(AuditEvent))
        numbers = await session.scalars(select(AuditEvent.org_seq).order_by(AuditEvent.seq))
    assert head.count == total == 2 * len(demo.users) + len(demo.workspaces)
    assert list(numbers) == list(range(1, head.count + 1))  # one organization


@pytest.mark.anyio
@pytest.mark.usefixtures("demo")
async def test_0003_refuses_events_without_the_key_and_a_chain_already_broken(database_url: str) -> None:
    key = make_settings(database_url).audit_key
    await _without_sealed_second_factors(database_url)
    await to_thread.run_sync(downgrade, database_url, "0002")
    with pytest.raises(MigrationRefusedError, match="a bare `alembic upgrade` has no key"):
        await to_thread.run_sync(upgrade, database_url)

    async with committed_session(database_url) as session:
        original = await session.scalar(text("SELECT client_ip FROM audit_event WHERE seq = 3"))
        await session.execute(text("UPDATE audit_event SET client_ip = '10.9.9.9' WHERE seq = 3"))
    with pytest.raises(MigrationRefusedError, match="already broken at seq 3"):
        await to_thread.run_sync(functools.partial(upgrade, database_url, audit_key=key))
    assert "org_seq" not in await _run(database_url, _columns("audit_event")), "refused before any change"

    async with committed_session(database_url) as session:
        await session.execute(text("UPDATE audit_event SET client_ip = :ip WHERE seq = 3"), {"ip": original})
    await to_thread.run_sync(functools.partial(upgrade, database_url, audit_key=key))
    async with committed_session(database_url) as session:
        assert (await verify_chain(session)).count >= 3


async def _second_factor_as_0003_stored(database_url: str) -> tuple[UUID, str, str]:
    """A user with MFA on, written while the database is at 0003: the secret in the clear, a bare SHA-256."""
    secret, digest = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", hashlib.sha256(b"k7mp2xqahv9c").hexdigest()
    async with committed_session(database_url) as session:
        user = await new_user(session, await new_organization(session), mfa_enabled_at=utcnow())
        user.totp_secret = secret
        session.add(RecoveryCode(user_id=user.id, code_hash=digest))
    return user.id, secret, digest


@pytest.mark.anyio
async def test_0004_keeps_the_second_factors_0003_stored(database_url: str) -> None:
    await to_thread.run_sync(downgrade, database_url, "0003")
    user_id, secret, digest = await _second_factor_as_0003_stored(database_url)
    await to_thread.run_sync(upgrade, database_url)
    async with committed_session(database_url) as session:
        assert (await session.get_one(User, user_id)).totp_secret == secret
        assert list(await session.scalars(select(RecoveryCode.code_hash))) == [digest]


@pytest.mark.anyio
async def test_downgrading_past_0004_is_refused_while_a_second_factor_is_sealed(database_url: str) -> None:
    async with committed_session(database_url) as session:
        await new_user(session, await new_organization(session), totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    await to_thread.run_sync(downgrade, database_url, "0004")
    with pytest.raises(RuntimeError, match="sealed under the server secret"):
        await to_thread.run_sync(downgrade, database_url, "0003")
    await to_thread.run_sync(upgrade, database_url)
    assert await _run(database_url, _diff) == [], "0004 refused before changing anything: back at head cleanly"


@pytest.mark.anyio
async def test_downgrading_past_0005_is_refused_while_an_email_has_accounts_in_two_organizations(
    database_url: str,
) -> None:
    async with committed_session(database_url) as session:
        for _ in range(2):
            await new_user(session, await new_organization(session), email="shared@example.com")
    await to_thread.run_sync(downgrade, database_url, "0005")
    with pytest.raises(RuntimeError, match="several organizations"):
        await to_thread.run_sync(downgrade, database_url, "0004")
    await to_thread.run_sync(upgrade, database_url)
    assert await _run(database_url, _diff) == [], "0005 refused before changing anything: back at head cleanly"
