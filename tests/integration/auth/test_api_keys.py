"""API keys end to end: both headers, every 401 code, creation rules, down-scope, revocation, rotation, storage.

Everything runs through the real application on real SQLite and PostgreSQL databases. Where a test needs a
state the API cannot produce (a demoted or deactivated creator, a free tier, an expiry in the past) it
changes the row directly, as another worker or an operator would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, uuid4

import anyio
import pyotp
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import make_url

from tabular.app import create_app
from tabular.auth.api_key_backend import generate_key
from tabular.db import ApiKey, Organization, Tier, User, Workspace, WorkspaceMembership
from tabular.db.config import make_db_config
from tabular.vocabulary import Role
from tests.support.clients import bearer, login, user
from tests.support.live import run
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from httpx import Response
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql import Executable

    from tabular.demo import DemoData, DemoUser

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]
T = TypeVar("T")

KEY_SHAPE = re.compile(r"tp_[A-Za-z0-9]{48}")
VIEW_FIELDS = {
    "id",
    "name",
    "prefix",
    "status",
    "created_at",
    "expires_at",
    "revoked_at",
    "last_used_at",
    "read_only",
    "workspace_id",
}
CREATED_FIELDS = {"id", "key", "name", "prefix", "created_at", "expires_at", "read_only", "workspace_id", "replaces"}
GRACE = dt.timedelta(hours=24)


# --- helpers -------------------------------------------------------------------------------------------


def x_api_key(secret: str) -> dict[str, str]:
    return {"X-API-Key": secret}


def assert_problem(response: Response, status: int, code: str | None = None) -> None:
    """An RFC 9457 answer with this status (and `code`, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert response.json()["code"] == code, response.text


async def session_headers(client: Client, who: DemoUser) -> dict[str, str]:
    """Bearer headers of a fresh session; the cookies are dropped so only these headers authenticate."""
    token = await login(client, who)
    client.cookies.clear()
    return bearer(token)


async def whoami(client: Client, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/auth", headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def create_key(client: Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/keys", json={"name": "test key"} | fields, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def list_keys(client: Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/keys", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def rotate(client: Client, headers: dict[str, str], key_id: str) -> Response:
    return await client.post(f"/api/keys/{key_id}/rotate", headers=headers)


def moment(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def iso(when: dt.datetime) -> str:
    return when.replace(microsecond=0).isoformat()


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[AsyncSession]:
    """A committed transaction on the test database, outside the application (another worker, an operator)."""
    config = make_db_config(make_settings(database_url))
    try:
        async with config.get_session() as session, session.begin():
            yield session
    finally:
        await config.get_engine().dispose()


async def execute(database_url: str, statement: Executable) -> None:
    async with database(database_url) as session:
        await session.execute(statement)


async def key_column(database_url: str, key_id: str, column: Any) -> Any:
    async with database(database_url) as session:
        return await session.scalar(select(column).where(ApiKey.id == UUID(key_id)))


async def expire_now(database_url: str, key_id: str) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await execute(database_url, update(ApiKey).where(ApiKey.id == UUID(key_id)).values(expires_at=past))


@asynccontextmanager
async def app_client(database_url: str, **overrides: Any) -> AsyncIterator[Client]:
    """A client of another application instance: its own identity cache, as a separate worker has."""
    async with AsyncTestClient(app=create_app(make_settings(database_url, **overrides))) as client:
        yield client


def next_otp(secret: str | None) -> str:
    """A code of the next 30-second step: the current one is spent by `login`."""
    assert secret is not None
    return pyotp.TOTP(secret).at(time.time() + 30)


# --- presenting a key ----------------------------------------------------------------------------------


async def test_both_headers_authenticate_as_the_key_and_are_equivalent(client: Client, demo: DemoData) -> None:
    admin = user(demo, "admin")
    assert admin.api_key is not None
    via_header = await whoami(client, x_api_key(admin.api_key))
    via_bearer = await whoami(client, bearer(admin.api_key))

    assert via_header == via_bearer
    assert via_header["credential"] == "api_key"
    assert via_header["key_id"] is not None
    assert via_header["user_email"] == admin.email
    assert via_header["role"] == "admin"
    assert via_header["read_only"] is False
    assert via_header["pinned_workspace_id"] is None
    assert sorted(via_header["workspace_ids"]) == sorted(w.id for w in demo.workspaces)
    assert await list_keys(client, x_api_key(admin.api_key)) == await list_keys(client, bearer(admin.api_key))


@pytest.mark.parametrize("path", ["/api/auth", "/api/keys"])
async def test_no_credential_is_401_unauthenticated(client: Client, path: str) -> None:
    assert_problem(await client.get(path), 401, "unauthenticated")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(x_api_key("tp_" + "a" * 47), id="47-characters"),
        pytest.param(x_api_key("tp_" + "a" * 49), id="49-characters"),
        pytest.param(x_api_key("tp_" + "-" * 48), id="outside-the-alphabet"),
        pytest.param({"X-API-Key": ("tp_" + "é" * 48).encode()}, id="non-ascii-letters"),
        pytest.param(x_api_key("TP_" + "a" * 48), id="wrong-case-prefix"),
        pytest.param(x_api_key("sk_" + "a" * 48), id="wrong-prefix"),
        pytest.param(x_api_key(""), id="empty-header"),
        pytest.param(bearer("tp_short"), id="short-bearer"),
        pytest.param(bearer("tp_" + "a" * 49), id="long-bearer"),
    ],
)
async def test_a_malformed_key_is_401_invalid_api_key(client: Client, headers: dict[str, Any]) -> None:
    assert_problem(await client.get("/api/keys", headers=headers), 401, "invalid_api_key")


async def test_a_well_formed_unknown_key_is_401_invalid_api_key(client: Client, demo: DemoData) -> None:
    real = user(demo, "admin").api_key
    assert real is not None
    one_character_off = real[:-1] + ("A" if real[-1] != "A" else "B")
    other_case = "tp_" + real[3:].swapcase()
    for secret in (generate_key().secret, one_character_off, other_case):
        for headers in (x_api_key(secret), bearer(secret)):
            assert_problem(await client.get("/api/keys", headers=headers), 401, "invalid_api_key")


async def test_a_rejected_key_is_not_rescued_by_a_valid_session(client: Client, demo: DemoData) -> None:
    await login(client, user(demo, "member", 0))  # leaves the session cookie on the client
    assert (await whoami(client, {}))["credential"] == "session"
    response = await client.get("/api/auth", headers=x_api_key(generate_key().secret))
    assert_problem(response, 401, "invalid_api_key")


async def test_an_expired_key_is_401_and_revoked_wins_over_expired(
    client: Client, demo: DemoData, database_url: str
) -> None:
    member = user(demo, "member", 0)
    assert member.api_key is not None
    key_id = (await whoami(client, x_api_key(member.api_key)))["key_id"]

    await expire_now(database_url, key_id)
    assert_problem(await client.get("/api/auth", headers=x_api_key(member.api_key)), 401, "api_key_expired")
    assert_problem(await client.get("/api/keys", headers=bearer(member.api_key)), 401, "api_key_expired")
    headers = await session_headers(client, member)
    assert [k["status"] for k in await list_keys(client, headers) if k["id"] == key_id] == ["expired"]

    assert (await client.delete(f"/api/keys/{key_id}", headers=headers)).status_code == 204
    assert_problem(await client.get("/api/auth", headers=x_api_key(member.api_key)), 401, "api_key_revoked")
    assert [k["status"] for k in await list_keys(client, headers) if k["id"] == key_id] == ["revoked"]


# --- creating and listing ------------------------------------------------------------------------------


async def test_creation_shows_the_key_once_and_only_its_hash_is_kept(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = user(demo, "admin")
    headers = await session_headers(client, admin)
    created = await create_key(client, headers, name="ETL pipeline")

    secret = created["key"]
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert set(created) == CREATED_FIELDS
    assert KEY_SHAPE.fullmatch(secret)
    assert created["prefix"] == secret[:10]
    assert created["name"] == "ETL pipeline"
    assert (created["expires_at"], created["read_only"], created["workspace_id"]) == (None, False, None)
    assert await key_column(database_url, created["id"], ApiKey.key_hash) == digest

    me = await whoami(client, x_api_key(secret))
    assert (me["credential"], me["key_id"], me["user_email"]) == ("api_key", created["id"], admin.email)

    for lister in (headers, x_api_key(secret)):
        response = await client.get("/api/keys", headers=lister)
        assert response.status_code == 200
        for fragment in (secret, secret[10:], digest):
            assert fragment not in response.text
        items = response.json()["items"]
        assert all(set(item) == VIEW_FIELDS for item in items)
        assert [item["name"] for item in items] == ["ETL pipeline", "demo"]  # newest first
        assert items[0]["id"] == created["id"]
        assert items[0]["prefix"] == created["prefix"]
        assert items[0]["status"] == "active"


async def test_an_api_key_cannot_create_or_rotate_keys(client: Client, demo: DemoData) -> None:
    admin = user(demo, "admin")
    assert admin.api_key is not None
    key_id = (await whoami(client, x_api_key(admin.api_key)))["key_id"]
    for headers in (x_api_key(admin.api_key), bearer(admin.api_key)):
        response = await client.post("/api/keys", json={"name": "from a key"}, headers=headers)
        assert_problem(response, 403, "api_key_not_allowed")
        assert_problem(await rotate(client, headers, key_id), 403, "api_key_not_allowed")
    assert len(await list_keys(client, x_api_key(admin.api_key))) == 1


async def test_creation_needs_mfa_enabled(client: Client, demo: DemoData, database_url: str) -> None:
    member = user(demo, "member", 0)
    headers = await session_headers(client, member)
    await execute(database_url, update(User).where(User.email == member.email).values(mfa_enabled_at=None))

    response = await client.post("/api/keys", json={"name": "no mfa"}, headers=headers)
    assert_problem(response, 403, "mfa_required_for_keys")
    assert [k["name"] for k in await list_keys(client, headers)] == ["demo"]


async def test_creation_needs_a_paid_tier(client: Client, demo: DemoData, database_url: str) -> None:
    headers = await session_headers(client, user(demo, "admin"))
    for tier, status in [(Tier.FREE, 403), (Tier.TEAM, 201), (Tier.ORGANISATION, 201), (Tier.FREE, 403)]:
        statement = update(Organization).where(Organization.id == UUID(demo.organization.id)).values(tier=tier)
        await execute(database_url, statement)
        response = await client.post("/api/keys", json={"name": f"on {tier}"}, headers=headers)
        if status == 403:
            assert_problem(response, 403, "paid_tier_required")
        else:
            assert response.status_code == 201, response.text
    assert [k["name"] for k in await list_keys(client, headers)] == ["on organisation", "on team", "demo"]


# --- down-scope ----------------------------------------------------------------------------------------


async def test_read_only_and_pinned_down_scope_show_in_whoami(client: Client, demo: DemoData) -> None:
    first, second = (w.id for w in demo.workspaces)
    headers = await session_headers(client, user(demo, "admin"))

    pinned = await create_key(client, headers, read_only=True, workspace_id=second)
    assert (pinned["read_only"], pinned["workspace_id"]) == (True, second)
    me = await whoami(client, x_api_key(pinned["key"]))
    assert (me["read_only"], me["pinned_workspace_id"], me["workspace_ids"]) == (True, second, [second])

    read_only = await create_key(client, headers, read_only=True)
    me = await whoami(client, x_api_key(read_only["key"]))
    assert (me["read_only"], me["pinned_workspace_id"]) == (True, None)
    assert sorted(me["workspace_ids"]) == sorted([first, second])

    member_headers = await session_headers(client, user(demo, "member", 0))
    member_pinned = await create_key(client, member_headers, workspace_id=first)
    me = await whoami(client, bearer(member_pinned["key"]))
    assert (me["read_only"], me["pinned_workspace_id"], me["workspace_ids"]) == (False, first, [first])


async def test_a_key_is_pinned_only_where_its_creator_can_go(client: Client, demo: DemoData, database_url: str) -> None:
    async with database(database_url) as session:
        elsewhere = Organization(name="Elsewhere Inc", tier=Tier.PRO)
        session.add(elsewhere)
        await session.flush()
        foreign = Workspace(organization_id=elsewhere.id, name="Their workspace")
        session.add(foreign)
        await session.flush()
        foreign_id = str(foreign.id)
    first, second = (w.id for w in demo.workspaces)
    headers = await session_headers(client, user(demo, "member", 0))  # a member of the first workspace only

    for workspace_id in (foreign_id, str(uuid4())):
        response = await client.post("/api/keys", json={"name": "x", "workspace_id": workspace_id}, headers=headers)
        assert_problem(response, 404, "not_found")
    response = await client.post("/api/keys", json={"name": "x", "workspace_id": second}, headers=headers)
    assert_problem(response, 403, "workspace_forbidden")
    assert [k["name"] for k in await list_keys(client, headers)] == ["demo"]
    assert (await create_key(client, headers, workspace_id=first))["workspace_id"] == first


# --- the creator, live ---------------------------------------------------------------------------------


async def test_the_key_follows_its_creator_role_memberships_and_activation(
    client: Client, demo: DemoData, database_url: str
) -> None:
    member = user(demo, "member", 0)
    assert member.api_key is not None
    headers = x_api_key(member.api_key)
    of_member = User.email == member.email
    assert (await whoami(client, headers))["role"] == "member"

    await execute(database_url, update(User).where(of_member).values(role=Role.CLIENT))
    assert (await whoami(client, headers))["role"] == "client"

    user_id = UUID((await whoami(client, headers))["user_id"])
    await execute(database_url, delete(WorkspaceMembership).where(WorkspaceMembership.user_id == user_id))
    assert (await whoami(client, headers))["workspace_ids"] == []

    await execute(database_url, update(User).where(of_member).values(is_active=False))
    assert_problem(await client.get("/api/auth", headers=headers), 401, "account_disabled")
    assert_problem(await client.get("/api/keys", headers=bearer(member.api_key)), 401, "account_disabled")

    await execute(database_url, update(User).where(of_member).values(is_active=True))
    assert (await whoami(client, headers))["role"] == "client"


# --- revocation ----------------------------------------------------------------------------------------


async def test_revocation_is_immediate_even_with_a_warm_cache(demo: DemoData, database_url: str) -> None:
    admin_key = user(demo, "admin").api_key
    assert admin_key is not None
    async with app_client(database_url, auth_cache_ttl=60) as client:
        headers = await session_headers(client, user(demo, "member", 0))
        created = await create_key(client, headers)
        key = x_api_key(created["key"])
        assert (await whoami(client, key))["read_only"] is False

        # The cache really is warm: a change made outside this worker is not seen yet.
        statement = update(ApiKey).where(ApiKey.id == UUID(created["id"])).values(read_only=True)
        await execute(database_url, statement)
        assert (await whoami(client, key))["read_only"] is False

        assert (await client.delete(f"/api/keys/{created['id']}", headers=headers)).status_code == 204
        assert_problem(await client.get("/api/auth", headers=key), 401, "api_key_revoked")
        assert_problem(await client.get("/api/keys", headers=bearer(created["key"])), 401, "api_key_revoked")

        listed = {k["id"]: k for k in await list_keys(client, headers)}[created["id"]]
        assert listed["status"] == "revoked"
        assert listed["revoked_at"] is not None
        assert (await client.delete(f"/api/keys/{created['id']}", headers=headers)).status_code == 204
        assert {k["id"]: k for k in await list_keys(client, headers)}[created["id"]] == listed

        own = x_api_key(admin_key)  # a key may revoke itself, with the same immediate effect
        own_id = (await whoami(client, own))["key_id"]
        assert (await client.delete(f"/api/keys/{own_id}", headers=own)).status_code == 204
        assert_problem(await client.get("/api/auth", headers=own), 401, "api_key_revoked")


async def test_another_users_key_is_not_listed_revoked_or_rotated(client: Client, demo: DemoData) -> None:
    admin, member = user(demo, "admin"), user(demo, "member", 0)
    assert admin.api_key is not None
    assert member.api_key is not None
    admin_key_id = (await whoami(client, x_api_key(admin.api_key)))["key_id"]
    member_key = x_api_key(member.api_key)
    assert [k["id"] for k in await list_keys(client, member_key)] == [(await whoami(client, member_key))["key_id"]]
    session = await session_headers(client, member)

    for key_id in (admin_key_id, str(uuid4())):
        for headers in (session, member_key):
            assert_problem(await client.delete(f"/api/keys/{key_id}", headers=headers), 404, "not_found")
        assert_problem(await rotate(client, session, key_id), 404, "not_found")
    assert (await whoami(client, x_api_key(admin.api_key)))["key_id"] == admin_key_id
    assert [k["status"] for k in await list_keys(client, x_api_key(admin.api_key))] == ["active"]


# --- rotation ------------------------------------------------------------------------------------------


async def test_rotation_gives_a_successor_and_a_grace_period(client: Client, demo: DemoData, database_url: str) -> None:
    first, _ = (w.id for w in demo.workspaces)
    headers = await session_headers(client, user(demo, "member", 0))
    old = await create_key(client, headers, name="deploy", read_only=True, workspace_id=first)

    before = dt.datetime.now(dt.UTC)
    response = await rotate(client, headers, old["id"])
    after = dt.datetime.now(dt.UTC)
    assert response.status_code == 201, response.text
    new = response.json()
    assert set(new) == CREATED_FIELDS
    assert KEY_SHAPE.fullmatch(new["key"])
    assert new["key"] != old["key"]
    assert new["id"] != old["id"]
    assert new["replaces"] == old["id"]
    assert (new["name"], new["read_only"], new["workspace_id"]) == ("deploy", True, first)

    assert (await whoami(client, x_api_key(new["key"])))["key_id"] == new["id"]
    assert (await whoami(client, x_api_key(old["key"])))["key_id"] == old["id"]  # still inside the grace period
    listed = {k["id"]: k for k in await list_keys(client, headers)}
    old_expiry = moment(listed[old["id"]]["expires_at"])
    assert old_expiry is not None
    assert before + GRACE <= old_expiry <= after + GRACE
    assert listed[old["id"]]["status"] == "active"

    await expire_now(database_url, old["id"])
    assert_problem(await client.get("/api/auth", headers=x_api_key(old["key"])), 401, "api_key_expired")
    assert (await whoami(client, x_api_key(new["key"])))["key_id"] == new["id"]
    assert_problem(await rotate(client, headers, old["id"]), 409, "api_key_inactive")

    assert (await client.delete(f"/api/keys/{new['id']}", headers=headers)).status_code == 204
    assert_problem(await rotate(client, headers, new["id"]), 409, "api_key_inactive")
    assert len(await list_keys(client, headers)) == 3


@pytest.mark.parametrize("lifetime", [dt.timedelta(hours=1), dt.timedelta(days=10)], ids=["1h", "10d"])
async def test_rotation_keeps_the_expiry(client: Client, demo: DemoData, lifetime: dt.timedelta) -> None:
    """The successor never outlives the key it replaces; the old key stops at the earlier of the two ends."""
    headers = await session_headers(client, user(demo, "admin"))
    expiry = dt.datetime.now(dt.UTC).replace(microsecond=0) + lifetime
    old = await create_key(client, headers, expires_at=iso(expiry))
    assert moment(old["expires_at"]) == expiry

    before = dt.datetime.now(dt.UTC)
    new = (await rotate(client, headers, old["id"])).json()
    after = dt.datetime.now(dt.UTC)
    assert moment(new["expires_at"]) == expiry
    old_expiry = moment({k["id"]: k for k in await list_keys(client, headers)}[old["id"]]["expires_at"])
    assert old_expiry is not None
    assert min(expiry, before + GRACE) <= old_expiry <= min(expiry, after + GRACE)


# --- last use ------------------------------------------------------------------------------------------


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


# --- secrets at rest -----------------------------------------------------------------------------------


async def stored_bytes(database_url: str) -> bytes:
    """Everything the database holds: the SQLite files (free pages and WAL included), or every PostgreSQL row."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        return b"".join(file.read_bytes() for file in sorted(path.parent.glob(path.name + "*")))
    async with database(database_url) as session:
        tables = await session.scalars(
            text("SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public'")
        )
        rows = [await session.scalars(text(f"SELECT CAST(t AS text) FROM {table} AS t")) for table in tables]  # noqa: S608
    return "\n".join(row for result in rows for row in result).encode()


async def test_no_plaintext_key_password_or_recovery_code_is_stored(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = user(demo, "admin")
    headers = await session_headers(client, admin)
    response = await client.post(
        "/api/auth/mfa/recovery-codes", json={"code": next_otp(admin.totp_secret)}, headers=headers
    )
    assert response.status_code == 200, response.text
    recovery_codes = response.json()["data"]["recovery_codes"]
    created = await create_key(client, headers)
    async with database(database_url) as session:
        assert await session.scalar(select(func.count()).select_from(ApiKey)) == len(demo.users) + 1

    keys = [created["key"], *(u.api_key for u in demo.users if u.api_key)]
    plaintexts = [*keys, *(key[10:] for key in keys), *(u.password for u in demo.users)]
    plaintexts += [*recovery_codes, *(code.replace("-", "") for code in recovery_codes)]
    assert len(plaintexts) == 2 * 5 + 4 + 2 * 10
    stored = await stored_bytes(database_url)
    assert hashlib.sha256(created["key"].encode()).hexdigest().encode() in stored  # the dump does hold the keys
    leaked = [secret for secret in plaintexts if secret.encode() in stored]
    assert leaked == []


# --- bad input -----------------------------------------------------------------------------------------

BAD_BODIES: list[tuple[str, bytes | dict[str, Any], str | None]] = [
    # (what, body, the field a 422 must name; None: any 4xx problem)
    ("malformed JSON", b'{"name": "x"', None),
    ("an empty body", b"", None),
    ("a body that is not UTF-8", b'{"name": "\xff"}', None),
    ("an array", b'["x"]', None),
    ("null", b"null", None),
    ("an unknown field", {"name": "x", "scope": "all"}, None),
    ("no name", {}, None),
    ("an empty name", {"name": ""}, "name"),
    ("a blank name", {"name": "   "}, "name"),
    ("a name with a NUL", {"name": "a\u0000b"}, "name"),
    ("a 101-character name", {"name": "n" * 101}, "name"),
    ("a number as name", {"name": 5}, "name"),
    ("a null name", {"name": None}, "name"),
    ("a string as read_only", {"name": "x", "read_only": "yes"}, "read_only"),
    ("a malformed workspace id", {"name": "x", "workspace_id": "not-a-uuid"}, "workspace_id"),
    ("a number as workspace id", {"name": "x", "workspace_id": 1}, "workspace_id"),
    ("an unparsable expiry", {"name": "x", "expires_at": "tomorrow"}, "expires_at"),
    ("a naive expiry", {"name": "x", "expires_at": "2999-01-01T00:00:00"}, "expires_at"),
    ("a past expiry", {"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ("a number as expiry", {"name": "x", "expires_at": 1}, "expires_at"),
    ("an expiry beyond year 9999 in UTC", {"name": "x", "expires_at": "9999-12-31T23:59:59-14:00"}, "expires_at"),
]


async def post_raw(client: Client, headers: dict[str, str], body: bytes | dict[str, Any]) -> Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post("/api/keys", content=content, headers=headers | {"Content-Type": "application/json"})


def is_refusal(response: Response, field: str | None) -> bool:
    """A 4xx problem; with `field`, a 422 `validation_failed` that names it."""
    if not response.headers["content-type"].startswith("application/problem+json"):
        return False
    if field is None:
        return 400 <= response.status_code < 500
    problem = response.json()
    named = {error.get("field") for error in problem.get("errors") or []}
    return response.status_code == 422 and problem["code"] == "validation_failed" and field in named


async def test_bad_input_is_a_4xx_problem_and_creates_nothing(client: Client, demo: DemoData) -> None:
    headers = await session_headers(client, user(demo, "member", 0))
    wrong = []
    for what, body, field in BAD_BODIES:
        response = await post_raw(client, headers, body)
        if not is_refusal(response, field):
            wrong.append(f"{what}: {response.status_code} {response.text[:200]}")
    assert wrong == []
    assert [k["name"] for k in await list_keys(client, headers)] == ["demo"]


async def test_edge_values_that_are_accepted(client: Client, demo: DemoData) -> None:
    headers = await session_headers(client, user(demo, "member", 0))
    assert (await create_key(client, headers, name="n" * 100))["name"] == "n" * 100
    assert (await create_key(client, headers, name="  padded  "))["name"] == "padded"
    expiry = dt.datetime(2999, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    created = await create_key(client, headers, expires_at=expiry.isoformat())
    assert moment(created["expires_at"]) == expiry
    assert created["expires_at"].endswith(("Z", "+00:00"))


# --- the operator CLI ----------------------------------------------------------------------------------


async def test_cli_creates_a_working_key_as_json(
    client: Client, demo: DemoData, database_url: str, tmp_path: Path
) -> None:
    member = user(demo, "member", 0)
    args = ["keys", "create", "--email", member.email, "--name", "CI", "--read-only", "--expires", "2999-01-01"]
    result = run(*args, "--json", cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == CREATED_FIELDS
    assert KEY_SHAPE.fullmatch(created["key"])
    assert (created["name"], created["read_only"]) == ("CI", True)
    assert moment(created["expires_at"]) == dt.datetime(2999, 1, 1, tzinfo=dt.UTC)

    me = await whoami(client, x_api_key(created["key"]))
    assert (me["key_id"], me["user_email"], me["read_only"]) == (created["id"], member.email, True)


async def test_cli_refusals_are_one_line(demo: DemoData, database_url: str, tmp_path: Path) -> None:
    member = user(demo, "member", 0)
    refusals = [
        (["--email", "nobody@example.com"], "nobody@example.com"),
        (["--email", member.email, "--expires", "2001-01-01"], "in the future"),
    ]
    for extra, message in refusals:
        args = ["keys", "create", "--name", "CI", "--json", *extra]
        result = run(*args, cwd=tmp_path, TABULAR_DATABASE_URL=database_url)
        assert result.returncode != 0
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("tabular: error: ")
        assert message in lines[0]
    async with database(database_url) as session:
        assert await session.scalar(select(func.count()).select_from(ApiKey)) == len(demo.users)
