"""Presenting an API key: `X-API-Key` and Bearer are equivalent; every unusable key is a 401 with its own code,
and a rejected key is not rescued by a valid session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tabular.auth.api_key_backend import generate_key
from tests.support.api_keys import (
    expire_now,
    list_keys,
    whoami,
    x_api_key,
)
from tests.support.clients import Client, assert_problem, bearer, login, session_headers, user

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


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
