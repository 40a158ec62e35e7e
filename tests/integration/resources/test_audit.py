"""`/api/audit` and `tabular audit verify` end to end: the organization's events newest first, filters,
pagination, bad input, and the keyed hash chain holding after real traffic and concurrent appends, breaking
after a hand edit, and pinned by a checkpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import anyio
import pytest
from sqlalchemy import delete, func, select, text

from tabular.db import AuditEvent
from tabular.db.audit import AuditChainBrokenError, AuditEventType, record, verify_chain
from tests.support.cli import invoke_in_thread
from tests.support.clients import Client, api_key, assert_problem, key, ok, user, user_id
from tests.support.db import committed_session, open_database
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.demo import DemoData
    from tests.support.cli import Result
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio

EVENT_FIELDS = {"id", "seq", "event", "actor_user_id", "target_type", "target_id", "data", "client_ip", "created_at"}


async def audit(client: Client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    page: dict[str, Any] = ok(await client.get("/api/audit", params=params, headers=headers))
    return page


async def tabular_audit(database_url: str, cwd: Path, *args: str) -> Result:
    """`tabular audit ARGS` on the test database with the test application's secret (the chain's key)."""
    return await invoke_in_thread(
        "audit", *args, cwd=cwd, TABULAR_DATABASE_URL=database_url, TABULAR_SECRET_KEY=TEST_SECRET
    )


async def organization_event_count(database_url: str, organization_id: str) -> int:
    async with committed_session(database_url) as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.organization_id == UUID(organization_id))
        )
        return count or 0


async def some_traffic(client: Client, demo: DemoData) -> None:
    """A workspace made, joined, renamed; a user made and demoted: events from every endpoint that writes."""
    admin = key(demo, "admin")
    workspace = ok(await client.post("/api/workspaces", json={"name": "Audited"}, headers=admin), 201)
    member = await user_id(client, user(demo, "member", 1))
    ok(await client.post(f"/api/workspaces/{workspace['id']}/members", json={"user_id": member}, headers=admin), 201)
    ok(await client.patch(f"/api/workspaces/{workspace['id']}", json={"name": "Audited too"}, headers=admin))
    body = {"email": "audited@demo.tabular.test", "name": "Audited", "role": "member"}
    created = ok(await client.post("/api/users", json=body, headers=admin), 201)
    ok(await client.patch(f"/api/users/{created['id']}", json={"role": "client", "active": False}, headers=admin))
    ok(await client.delete(f"/api/workspaces/{workspace['id']}/members/{member}", headers=admin), 204)
    ok(await client.delete(f"/api/workspaces/{workspace['id']}", headers=admin), 204)


# --- reading -------------------------------------------------------------------------------------------


async def test_admins_read_their_organizations_events_newest_first(
    client: Client, demo: DemoData, database_url: str, other_tenant: Tenant
) -> None:
    admin = key(demo, "admin")
    await some_traffic(client, demo)

    page = await audit(client, admin, limit=200)
    assert page["total"] == await organization_event_count(database_url, demo.organization.id)
    made_by_the_demo = len(demo.workspaces) + 2 * len(demo.users)  # workspaces, users and their keys
    assert page["total"] == len(page["items"]) == made_by_the_demo + 8  # then the traffic
    assert all(set(item) == EVENT_FIELDS for item in page["items"])
    seqs = [item["seq"] for item in page["items"]]
    assert seqs == sorted(seqs, reverse=True)
    assert str(other_tenant.workspace_id) not in {item["target_id"] for item in page["items"]}  # another tenant's event

    newest = page["items"][0]
    assert (newest["event"], newest["target_type"], newest["data"]) == (
        "workspace.deleted",
        "workspace",
        {"name": "Audited too", "pinned_api_keys": 0, "webhook_endpoints": 0},
    )
    assert newest["actor_user_id"] == await user_id(client, user(demo, "admin"))
    assert newest["client_ip"]
    assert newest["created_at"].endswith("Z")
    assert [item["event"] for item in page["items"][:9]] == [
        "workspace.deleted",
        "workspace.member_removed",
        "user.deactivated",
        "user.role_changed",
        "user.created",
        "workspace.renamed",
        "workspace.member_added",
        "workspace.created",
        "api_key.created",  # the demo's keys
    ]


async def test_filters_and_pagination(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin")
    await some_traffic(client, demo)
    everything = (await audit(client, admin, limit=200))["items"]

    keys_made = await audit(client, admin, event="api_key.created")
    assert keys_made["total"] == len(demo.users)
    assert {item["event"] for item in keys_made["items"]} == {"api_key.created"}

    member = await user_id(client, user(demo, "member", 0))
    by_member = await audit(client, admin, actor_id=member)
    assert by_member["total"] >= 1
    assert {item["actor_user_id"] for item in by_member["items"]} == {member}
    admin_id = await user_id(client, user(demo, "admin"))
    renamed = await audit(client, admin, actor_id=admin_id, event="workspace.renamed")
    assert [item["data"] for item in renamed["items"]] == [{"from": "Audited", "to": "Audited too"}]
    assert (await audit(client, admin, actor_id=str(uuid4())))["total"] == 0

    middle = everything[len(everything) // 2]
    since = await audit(client, admin, since=middle["created_at"], limit=200)
    until = await audit(client, admin, until=middle["created_at"], limit=200)
    assert middle["id"] in {item["id"] for item in since["items"]}  # inclusive
    assert middle["id"] not in {item["id"] for item in until["items"]}  # exclusive
    assert since["total"] + until["total"] == len(everything)
    assert all(item["created_at"] >= middle["created_at"] for item in since["items"])
    window = await audit(client, admin, since=everything[-1]["created_at"], until=everything[0]["created_at"])
    assert window["total"] == len(everything) - 1
    offset = await audit(client, admin, since=middle["created_at"].replace("Z", "+02:00"), limit=200)
    assert offset["total"] >= since["total"]  # two hours earlier: at least as many

    page = await audit(client, admin, limit=3, offset=2)
    assert (page["total"], page["limit"], page["offset"]) == (len(everything), 3, 2)
    assert [item["id"] for item in page["items"]] == [item["id"] for item in everything[2:5]]


async def test_only_admins_read_the_log(client: Client, demo: DemoData) -> None:
    for role in ("member", "client"):
        assert_problem(await client.get("/api/audit", headers=api_key(user(demo, role))), 403, "role_forbidden")
    assert_problem(await client.get("/api/audit"), 401, "unauthenticated")


async def test_bad_filters_are_a_422_problem(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin")
    for params in (
        {"event": "no.such.event"},
        {"actor_id": "me"},
        {"since": "yesterday"},
        {"until": "2026-13-01T00:00:00Z"},
        {"since": "2026-01-01T00:00:00"},  # no time zone
        {"until": "2026-01-01T00:00:00"},
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
    ):
        assert_problem(await client.get("/api/audit", params=params, headers=admin), 422, "validation_failed")


# --- the chain -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("other_tenant")
async def test_audit_verify_passes_after_traffic_and_fails_after_a_row_edit(
    client: Client, demo: DemoData, database_url: str, tmp_path: Path
) -> None:
    await some_traffic(client, demo)
    async with committed_session(database_url) as session:
        total = await session.scalar(select(func.count()).select_from(AuditEvent))

    intact = await tabular_audit(database_url, tmp_path, "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.strip() == f"audit chain intact: {total} events"

    async with committed_session(database_url) as session:
        await session.execute(text("""UPDATE audit_event SET data = '{"name": "forged"}' WHERE seq = 3"""))
    broken = await tabular_audit(database_url, tmp_path, "verify")
    assert broken.returncode == 1
    assert broken.stdout == ""
    assert broken.stderr.strip() == "tabular: error: audit chain broken at seq 3: the content does not match its hash"


@pytest.mark.parametrize(
    ("statement", "seq", "reason"),
    [
        pytest.param("DELETE FROM audit_event WHERE seq = 2", 2, "missing", id="deleted"),
        pytest.param("UPDATE audit_event SET client_ip = '10.9.9.9' WHERE seq = 1", 1, "content", id="edited-ip"),
        pytest.param("UPDATE audit_event SET prev_hash = hash WHERE seq = 3", 3, "prev_hash", id="relinked"),
    ],
)
async def test_verify_names_the_first_broken_event(
    demo: DemoData, database_url: str, statement: str, seq: int, reason: str
) -> None:
    async with committed_session(database_url) as session:
        assert (await verify_chain(session)).count >= len(demo.users)
        await session.execute(text(statement))
    async with committed_session(database_url) as session:
        with pytest.raises(AuditChainBrokenError) as caught:
            await verify_chain(session)
    assert caught.value.seq == seq
    assert reason in caught.value.reason


@pytest.mark.usefixtures("demo")
async def test_another_secret_does_not_verify_the_chain(database_url: str, tmp_path: Path) -> None:
    """The chain is keyed: run where the server's secret is not (here, a fresh ./.tabular-secret), it breaks at once."""
    elsewhere = await invoke_in_thread("audit", "verify", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert elsewhere.returncode == 1
    assert (
        elsewhere.stderr.strip() == "tabular: error: audit chain broken at seq 1: the content does not match its hash"
    )


async def test_a_checkpoint_pins_the_log_up_to_it(
    client: Client, demo: DemoData, database_url: str, tmp_path: Path
) -> None:
    taken = await tabular_audit(database_url, tmp_path, "checkpoint")
    assert taken.returncode == 0, taken.stderr
    count, _, head = taken.stdout.strip().partition(":")
    async with committed_session(database_url) as session:
        newest = await session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert newest is not None
    assert (int(count), head) == (newest.seq, newest.hash)

    await some_traffic(client, demo)  # the log grows past the checkpoint: still the same history
    grown = await tabular_audit(database_url, tmp_path, "verify", "--checkpoint", taken.stdout.strip())
    assert grown.returncode == 0, grown.stderr
    assert (
        grown.stdout.strip()
        == f"audit chain intact: {newest.seq + 8} events; the checkpoint's {count} events unchanged"
    )

    async with committed_session(database_url) as session:  # the key's holder rewrites the events since seq 2
        rewritten = list(await session.scalars(select(AuditEvent).where(AuditEvent.seq >= 2).order_by(AuditEvent.seq)))
        await session.execute(delete(AuditEvent).where(AuditEvent.seq >= 2))
        for event in rewritten:
            fields = {"target_type": event.target_type, "target_id": event.target_id, "data": event.data}
            await record(session, AuditEventType(event.event), organization_id=event.organization_id, **fields)
    assert (await tabular_audit(database_url, tmp_path, "verify")).returncode == 0, "a whole chain, by the key"
    pinned = await tabular_audit(database_url, tmp_path, "verify", "--checkpoint", taken.stdout.strip())
    assert pinned.returncode == 1
    assert pinned.stderr.strip() == (
        f"tabular: error: audit chain broken at seq {count}: the hash differs from the checkpoint's"
    )


@pytest.mark.parametrize("checkpoint", ["12", "12:abc", f"x:{'0' * 64}", f"0:{'1' * 64}", f"3:{'A' * 64}"])
async def test_a_malformed_checkpoint_is_a_usage_error(database_url: str, tmp_path: Path, checkpoint: str) -> None:
    refused = await tabular_audit(database_url, tmp_path, "verify", "--checkpoint", checkpoint)
    assert refused.returncode == 2
    assert "COUNT:HASH" in refused.stderr
    assert refused.stdout == ""


async def test_concurrent_appends_keep_one_chain_and_each_organizations_numbers(
    demo: DemoData, database_url: str, other_tenant: Tenant
) -> None:
    """Writers in their own transactions, for two organizations and the operator, all at once."""
    organizations = [UUID(demo.organization.id), other_tenant.organization_id, None]
    async with committed_session(database_url) as session:
        before = {org: await _count(session, org) for org in organizations}

    async with open_database(database_url) as database:

        async def append(organization_id: UUID | None) -> None:
            async with database.transaction() as session:
                await record(session, AuditEventType.LOGIN_FAILED, organization_id=organization_id)

        async with anyio.create_task_group() as group:
            for index in range(24):
                group.start_soon(append, organizations[index % 3])

    async with committed_session(database_url) as session:
        assert (await verify_chain(session)).count == sum(before.values()) + 24
        for organization_id in organizations:
            numbers = await session.scalars(
                select(AuditEvent.org_seq)
                .where(AuditEvent.organization_id == organization_id)
                .order_by(AuditEvent.org_seq)
            )
            assert list(numbers) == list(range(1, before[organization_id] + 9))


async def _count(session: AsyncSession, organization_id: UUID | None) -> int:
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.organization_id == organization_id)
    return await session.scalar(query) or 0
