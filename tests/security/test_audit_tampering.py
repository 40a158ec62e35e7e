"""Attack: make the audit log say something else, or read other tenants' activity out of it.

Someone with write access to the database but not the server's secret cuts the newest events off the log,
or rewrites an event and computes the chain again with the application's own code and a secret of their
own; `tabular audit verify` must notice (cutting off, with a checkpoint kept elsewhere). An organization's
admin reads the log through `/api/audit`; its sequence numbers must not count other tenants' events.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Final

import pytest
from sqlalchemy import delete, func, select

from tabular.db import AuditEvent
from tabular.db.audit import AuditEventType, record
from tabular.db.config import make_db_config
from tabular.settings import Settings
from tests.support.cli import invoke_in_thread
from tests.support.clients import key, ok
from tests.support.db import committed_session
from tests.support.factories import new_tenant
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.demo import DemoData
    from tests.support.cli import Result
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

ATTACKER_SECRET: Final = "not-the-servers-secret-" + "y" * 32


async def tabular_audit(database_url: str, cwd: Path, *args: str) -> Result:
    """`tabular audit ARGS` as the server's operator runs it: on its database, with its secret."""
    return await invoke_in_thread(
        "audit", *args, cwd=cwd, TABULAR_DATABASE_URL=database_url, TABULAR_SECRET_KEY=TEST_SECRET
    )


async def audited_traffic(client: Client, demo: DemoData) -> None:
    """An admin makes and renames a workspace: two events at the head of the log."""
    admin = key(demo, "admin")
    workspace = ok(await client.post("/api/workspaces", json={"name": "Budget"}, headers=admin), 201)
    ok(await client.patch(f"/api/workspaces/{workspace['id']}", json={"name": "Budget 2027"}, headers=admin))


@asynccontextmanager
async def attackers_session(database_url: str) -> AsyncIterator[AsyncSession]:
    """The application's own code on the server's database, run with a secret of the attacker's choosing."""
    config = make_db_config(Settings(database_url=database_url, secret_key=ATTACKER_SECRET))
    try:
        async with config.get_session() as session, session.begin():
            yield session
    finally:
        await config.get_engine().dispose()


async def test_deleting_the_newest_events_is_detected_with_a_checkpoint(
    client: Client, demo: DemoData, database_url: str, tmp_path: Path
) -> None:
    await audited_traffic(client, demo)
    checkpoint = await tabular_audit(database_url, tmp_path, "checkpoint")
    assert checkpoint.returncode == 0, checkpoint.stderr
    async with committed_session(database_url) as session:
        head = await session.scalar(select(func.max(AuditEvent.seq)))
        assert head is not None
        await session.execute(delete(AuditEvent).where(AuditEvent.seq > head - 2))  # the rename and the creation

    whole_but_shorter = await tabular_audit(database_url, tmp_path, "verify")
    assert whole_but_shorter.returncode == 0, "without a checkpoint, a cut-off log is a whole chain"
    cut_off = await tabular_audit(database_url, tmp_path, "verify", "--checkpoint", checkpoint.stdout.strip())
    assert cut_off.returncode == 1
    assert cut_off.stderr.strip() == (
        f"tabular: error: audit chain broken at seq {head - 1}: missing (the checkpoint counts {head} events)"
    )


async def test_rewriting_an_event_and_recomputing_the_hashes_without_the_secret_is_detected(
    client: Client, demo: DemoData, database_url: str, tmp_path: Path
) -> None:
    await audited_traffic(client, demo)
    async with committed_session(database_url) as session:
        created = select(AuditEvent).where(AuditEvent.event == AuditEventType.WORKSPACE_CREATED)
        target = await session.scalar(created.where(AuditEvent.data["name"].as_string() == "Budget"))
        assert target is not None
        forged_seq = target.seq  # the rename follows it
        from_there = select(AuditEvent).where(AuditEvent.seq >= forged_seq).order_by(AuditEvent.seq)
        originals = list(await session.scalars(from_there))
        await session.execute(delete(AuditEvent).where(AuditEvent.seq >= forged_seq))
    async with attackers_session(database_url) as session:
        for original in originals:
            forged = original.seq == forged_seq
            await record(
                session,
                AuditEventType(original.event),
                organization_id=original.organization_id,
                actor_user_id=original.actor_user_id,
                target_type=original.target_type,
                target_id=original.target_id,
                data={"name": "Nothing to see"} if forged else original.data,
                client_ip=original.client_ip,
            )

    rewritten = await tabular_audit(database_url, tmp_path, "verify")
    assert rewritten.returncode == 1, "a chain recomputed without the server's secret must not verify"
    assert rewritten.stderr.strip() == (
        f"tabular: error: audit chain broken at seq {forged_seq}: the content does not match its hash"
    )


async def test_an_organization_admin_cannot_learn_another_tenants_activity_from_sequence_numbers(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = key(demo, "admin")
    before = ok(await client.get("/api/audit", params={"limit": 200}, headers=admin))
    async with committed_session(database_url) as session:
        elsewhere = (await new_tenant(session)).organization_id  # its workspace's creation is audited
        for _ in range(5):
            await record(session, AuditEventType.LOGIN_FAILED, organization_id=elsewhere)
    ok(await client.post("/api/workspaces", json={"name": "After the others"}, headers=admin), 201)
    after = ok(await client.get("/api/audit", params={"limit": 200}, headers=admin))

    seqs = [item["seq"] for item in after["items"]]
    assert seqs == list(range(after["total"], 0, -1)), "the organization's own events, numbered 1, 2, 3…"
    assert after["items"][1:] == before["items"], "the earlier events keep their numbers"
    assert after["items"][0]["seq"] == before["items"][0]["seq"] + 1, "six events elsewhere changed nothing here"
