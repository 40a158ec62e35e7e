"""Creating and listing keys: the key is shown once and only its hash kept; a key cannot make keys; creation needs
MFA and a paid tier; bad input is a 4xx problem that creates nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest
from sqlalchemy import update

from tabular.db import ApiKey, Organization, Tier, User
from tests.support.api_keys import (
    CREATED_FIELDS,
    KEY_SHAPE,
    VIEW_FIELDS,
    create_key,
    key_column,
    list_keys,
    moment,
    rotate,
    whoami,
    x_api_key,
)
from tests.support.clients import Client, assert_problem, bearer, session_headers, user
from tests.support.db import execute

if TYPE_CHECKING:
    from httpx import Response

    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


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
