"""Attack: keep using a session token after the session ended: signed out, or the password changed.

A stolen token is replayed after its owner signed out (the token is revoked), or after the owner changed
the password to lock the thief out (the user's token version moves on, ending every earlier session).
Both are a 401 problem, as Bearer and as the cookie, while the owner's new session works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.clients import assert_problem
from tests.support.sessions import (
    NEW_PASSWORD,
    Account,
    Session,
    assert_auth_problem,
    change_password,
    logout,
    new_account,
    sign_in,
    who_am_i,
)

if TYPE_CHECKING:
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio


@pytest.fixture
async def account(database_url: str) -> Account:
    return await new_account(database_url, "replay.target@example.com")


async def _refused_everywhere(client: Client, stolen: Session) -> None:
    for headers in (stolen.bearer(), stolen.cookie()):
        assert_auth_problem(await who_am_i(client, headers), 401, "session_revoked")
        assert_problem(await client.get("/api/keys", headers=headers), 401, "session_revoked")


async def test_a_token_replayed_after_logout_is_refused(client: Client, account: Account) -> None:
    stolen = await sign_in(client, account.email, account.password)
    assert (await who_am_i(client, stolen.bearer())).status_code == 200, "the control: it worked before"

    assert (await logout(client, stolen.bearer())).status_code == 200

    await _refused_everywhere(client, stolen)
    assert_auth_problem(await logout(client, stolen.bearer()), 401, "session_revoked")


async def test_a_token_replayed_after_a_password_change_is_refused(client: Client, account: Account) -> None:
    stolen = await sign_in(client, account.email, account.password)
    owners = await sign_in(client, account.email, account.password)
    assert (await who_am_i(client, stolen.bearer())).status_code == 200, "the control: it worked before"

    changed = await change_password(client, owners.bearer(), account.password, NEW_PASSWORD)
    assert changed.status_code == 200, changed.text
    client.cookies.clear()  # only the headers below authenticate

    await _refused_everywhere(client, stolen)
    await _refused_everywhere(client, owners)  # the session that changed it continues only with its new token
    fresh = changed.cookies["auth_token"]
    assert (await who_am_i(client, {"Authorization": f"Bearer {fresh}"})).status_code == 200
